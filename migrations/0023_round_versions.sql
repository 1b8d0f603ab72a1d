-- The round page is kept rendered under a version per round of everything it
-- shows, except the timer (drawn on every visit from the round's row) and the
-- two things that autosave, notes and round_code, whose own versions the page
-- reads: bumping a third row would add a sixth to an autosave's cost. Triggers
-- bump it for every other table the page reads, so no write path can forget to.
create table round_versions (
    round_id uuid primary key references rounds (id) on delete cascade,
    version bigint not null
);

-- Rows are taken in id order, so two writers cannot deadlock; joining rounds
-- skips a round being deleted in the same statement. PL/pgSQL keeps each
-- statement's plan (a SQL function would be planned again on every call).
create function round_children_bump_round_versions() returns trigger language plpgsql as $$
begin
    insert into round_versions as v (round_id, version)
    select distinct r.id, 1::bigint from changed c join rounds r on r.id = c.round_id
    order by 1
    on conflict (round_id) do update set version = v.version + 1;
    return null;
end $$;

-- A round's page also shows its loop and the loop's other rounds (the count,
-- the next round, whether another one is running): a change to either bumps
-- every round of the loop.
create function rounds_bump_round_versions() returns trigger language plpgsql as $$
begin
    insert into round_versions as v (round_id, version)
    select r.id, 1::bigint from rounds r where r.loop_id in (select c.loop_id from changed c)
    order by 1
    on conflict (round_id) do update set version = v.version + 1;
    return null;
end $$;

create function loops_bump_round_versions() returns trigger language plpgsql as $$
begin
    insert into round_versions as v (round_id, version)
    select r.id, 1::bigint from rounds r where r.loop_id in (select c.id from changed c)
    order by 1
    on conflict (round_id) do update set version = v.version + 1;
    return null;
end $$;

create trigger rounds_added_round_versions after insert on rounds
    referencing new table as changed for each statement execute function rounds_bump_round_versions();
create trigger rounds_changed_round_versions after update on rounds
    referencing new table as changed for each statement execute function rounds_bump_round_versions();
create trigger rounds_removed_round_versions after delete on rounds
    referencing old table as changed for each statement execute function rounds_bump_round_versions();
create trigger loops_changed_round_versions after update on loops
    referencing new table as changed for each statement execute function loops_bump_round_versions();

create trigger round_questions_added_round_versions after insert on round_questions
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger round_questions_changed_round_versions after update on round_questions
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger round_questions_removed_round_versions after delete on round_questions
    referencing old table as changed for each statement execute function round_children_bump_round_versions();

create trigger scorecards_added_round_versions after insert on scorecards
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger scorecards_changed_round_versions after update on scorecards
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger scorecards_removed_round_versions after delete on scorecards
    referencing old table as changed for each statement execute function round_children_bump_round_versions();

create trigger code_runs_added_round_versions after insert on code_runs
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger code_runs_changed_round_versions after update on code_runs
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger code_runs_removed_round_versions after delete on code_runs
    referencing old table as changed for each statement execute function round_children_bump_round_versions();

create trigger round_scene_added_round_versions after insert on round_scene
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger round_scene_changed_round_versions after update on round_scene
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger round_scene_removed_round_versions after delete on round_scene
    referencing old table as changed for each statement execute function round_children_bump_round_versions();

create trigger call_signals_added_round_versions after insert on call_signals
    referencing new table as changed for each statement execute function round_children_bump_round_versions();
create trigger call_signals_removed_round_versions after delete on call_signals
    referencing old table as changed for each statement execute function round_children_bump_round_versions();

-- A question's text shows on the page of every round that has it: a private
-- question's in its owner's few rounds; a shipped one's changes only with a
-- content import, which then bumps each round that has it.
create function questions_bump_round_versions() returns trigger language plpgsql as $$
begin
    insert into round_versions as v (round_id, version)
    select distinct rq.round_id, 1::bigint from changed c join round_questions rq on rq.question_id = c.id
    order by 1
    on conflict (round_id) do update set version = v.version + 1;
    return null;
end $$;

create trigger questions_changed_round_versions after update on questions
    referencing new table as changed for each statement execute function questions_bump_round_versions();

-- The round page is kept rendered under a version per round of everything it
-- shows, except the timer (drawn on every visit from the round's row) and the
-- question texts (bank_versions). Triggers bump it for every table the page
-- reads, so no write path can forget to, except the two that autosave:
-- notes and round_code are bumped by their save statements, since a trigger
-- would add about half again to an autosave's cost in the database.
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

-- Notes and code are deleted only with their round or their author (whose
-- round is then reassigned, which bumps it): their deletes need no trigger.

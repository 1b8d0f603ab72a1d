-- Reads that pages make on every visit, made proportional to what they show.

-- The question page asks which of the viewer's own rounds use the question
-- (the guidance rule). From the question's side that visited every round of
-- every candidate given it; a round's candidate is its loop's, which never
-- changes, so it is kept beside each question of the round.
alter table round_questions add column candidate_id uuid;
update round_questions rq set candidate_id = l.candidate_id
from rounds r join loops l on l.id = r.loop_id
where r.id = rq.round_id;
alter table round_questions alter column candidate_id set not null;
create index round_questions_candidate_idx on round_questions (candidate_id, question_id);

-- The bank's text index is written only by imports and private questions:
-- written through at once, a search never has a pending list to read.
alter index questions_search_idx set (fastupdate = off);
select gin_clean_pending_list('questions_search_idx'::regclass);

-- Rounds interviewed against rounds been interviewed (home and the board)
-- counts the rounds of a candidate's peer loops only.
create index loops_peer_candidate_idx on loops (candidate_id) where mode = 'peer';

-- A version per person of what their home page shows beyond their history
-- (history_versions): the state of their rounds' timers (rounds to interview,
-- rounds done, give and take), their board slots and swaps, and their own
-- templates. Home is kept rendered under both; triggers bump it, so no write
-- path can forget to.
create table home_versions (
    user_id uuid primary key references users (id) on delete cascade,
    version bigint not null
);

-- Rows are locked in id order, so two writers cannot deadlock; joining users
-- skips an account being deleted in the same statement.
create function home_versions_bump(people uuid[]) returns void language sql as $$
    insert into home_versions as h (user_id, version)
    select u.id, 1
    from (select distinct unnest(people)) as p (id) join users u on u.id = p.id
    order by u.id
    on conflict (user_id) do update set version = h.version + 1;
$$;

create function rounds_bump_home() returns trigger language plpgsql as $$
begin
    perform home_versions_bump(array[new.interviewer_id, (select candidate_id from loops where id = new.loop_id)]);
    return null;
end $$;

-- Only a change of state: the elapsed time the timer banks is not shown on home.
create trigger rounds_timer_home after update of timer_state on rounds
    for each row when (old.timer_state is distinct from new.timer_state)
    execute function rounds_bump_home();

create function peer_slots_bump_home() returns trigger language plpgsql as $$
begin
    perform home_versions_bump(array(select poster_id from changed));
    return null;
end $$;

create trigger peer_slots_added_home after insert on peer_slots
    referencing new table as changed for each statement execute function peer_slots_bump_home();
create trigger peer_slots_changed_home after update on peer_slots
    referencing new table as changed for each statement execute function peer_slots_bump_home();
create trigger peer_slots_removed_home after delete on peer_slots
    referencing old table as changed for each statement execute function peer_slots_bump_home();

create function peer_swaps_bump_home() returns trigger language plpgsql as $$
begin
    perform home_versions_bump(array(select poster_id from changed union select claimer_id from changed));
    return null;
end $$;

create trigger peer_swaps_added_home after insert on peer_swaps
    referencing new table as changed for each statement execute function peer_swaps_bump_home();
create trigger peer_swaps_changed_home after update on peer_swaps
    referencing new table as changed for each statement execute function peer_swaps_bump_home();

create function loop_templates_bump_home() returns trigger language plpgsql as $$
begin
    perform home_versions_bump(array(select owner_id from changed));
    return null;
end $$;

create trigger loop_templates_added_home after insert on loop_templates
    referencing new table as changed for each statement execute function loop_templates_bump_home();
create trigger loop_templates_changed_home after update on loop_templates
    referencing new table as changed for each statement execute function loop_templates_bump_home();
create trigger loop_templates_removed_home after delete on loop_templates
    referencing old table as changed for each statement execute function loop_templates_bump_home();

create function template_rounds_bump_home() returns trigger language plpgsql as $$
begin
    perform home_versions_bump(array(select t.owner_id from changed c join loop_templates t on t.id = c.template_id));
    return null;
end $$;

create trigger template_rounds_added_home after insert on template_rounds
    referencing new table as changed for each statement execute function template_rounds_bump_home();
create trigger template_rounds_changed_home after update on template_rounds
    referencing new table as changed for each statement execute function template_rounds_bump_home();
create trigger template_rounds_removed_home after delete on template_rounds
    referencing old table as changed for each statement execute function template_rounds_bump_home();

-- Score buckets in bulk: score_buckets_add looked for emptied buckets with
-- `candidate_id = any(candidate)`, an array as long as the changed rows, so a
-- statement adding a million points (demo data) compared every bucket with a
-- million entries. Only a subtraction can empty a bucket, and the candidates it
-- touched are matched by a join on their distinct ids.
create or replace function score_buckets_add(candidate uuid[], starts timestamptz[], series text[], group_key text[],
                                             mean float8[], sign integer) returns void language sql as $$
    insert into score_buckets as b (candidate_id, grain, starts_on, series, group_key, total, points)
    select p.candidate, g.grain, date_trunc(g.grain, p.starts at time zone 'UTC')::date, p.series, p.group_key,
           sign * sum(p.mean), sign * count(*)
    from unnest(candidate, starts, series, group_key, mean) as p (candidate, starts, series, group_key, mean)
    cross join (values ('week'), ('month')) as g (grain)
    group by 1, 2, 3, 4, 5
    on conflict (candidate_id, grain, starts_on, series, group_key)
    do update set total = b.total + excluded.total, points = b.points + excluded.points;
    delete from score_buckets b
    using (select distinct c from unnest(candidate) as c) as touched
    where sign < 0 and b.candidate_id = touched.c and b.points <= 0;
$$;

-- The score points of many loops at once (demo data: 100,000): `= any(loop_ids)`
-- inside a join became an index scan re-run per outer row, each run sorting the
-- whole array again. The ids now drive the joins, each id looking up its loop
-- and rounds by index, however many there are. Otherwise as 0009.
create or replace function refresh_loop_score_points(
    loop_ids uuid[],
    deciding_modes text[], deciding_roles text[],
    readable_roles text[], readable_interviewer_statuses text[], readable_self_statuses text[]
) returns void language sql as $$
    delete from loop_score_points where loop_id = any(loop_ids);
    with deciding (mode, role) as (select * from unnest(deciding_modes, deciding_roles)),
         readable (role, interviewer_status, self_status) as (
             select * from unnest(readable_roles, readable_interviewer_statuses, readable_self_statuses)),
         stage as (
             select r.id as round_id,
                    coalesce((select s.status from scorecards s where s.round_id = r.id and s.role = 'interviewer'), '')
                        as interviewer_status,
                    coalesce((select s.status from scorecards s where s.round_id = r.id and s.role = 'self'), '')
                        as self_status
             from (select distinct unnest(loop_ids)) as chosen (id) join rounds r on r.loop_id = chosen.id),
         read_by_candidate as (
             select st.round_id, rd.role from stage st
             join readable rd on rd.interviewer_status = st.interviewer_status and rd.self_status = st.self_status)
    insert into loop_score_points (loop_id, candidate_id, starts_at, series, group_key, mean)
    select l.id, l.candidate_id, l.starts_at, case when grouping(c.pillar) = 0 then 'pillar' else 'kind' end,
           coalesce(c.pillar, r.kind), avg(cs.score)::float8
    from (select distinct unnest(loop_ids)) as chosen (id)
    join loops l on l.id = chosen.id
    join deciding d on d.mode = l.mode
    join rounds r on r.loop_id = l.id
    join read_by_candidate rc on rc.round_id = r.id and rc.role = d.role
    join scorecards s on s.round_id = r.id and s.role = d.role and s.status = 'submitted'
    join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
    join rubric_criteria c on c.id = cs.criterion_id
    where l.status <> 'cancelled'
    group by grouping sets ((l.id, l.candidate_id, l.starts_at, c.pillar), (l.id, l.candidate_id, l.starts_at, r.kind))
    union all
    select l.id, l.candidate_id, l.starts_at, 'gap', '', avg(own.score - theirs.score)::float8
    from (select distinct unnest(loop_ids)) as chosen (id)
    join loops l on l.id = chosen.id
    join rounds r on r.loop_id = l.id
    join read_by_candidate read_self on read_self.round_id = r.id and read_self.role = 'self'
    join read_by_candidate read_theirs on read_theirs.round_id = r.id and read_theirs.role = 'interviewer'
    join scorecards self_card on self_card.round_id = r.id and self_card.role = 'self' and self_card.status = 'submitted'
    join scorecards int_card on int_card.round_id = r.id and int_card.role = 'interviewer' and int_card.status = 'submitted'
    join criterion_scores own on own.scorecard_id = self_card.id and own.score is not null
    join criterion_scores theirs on theirs.scorecard_id = int_card.id and theirs.criterion_id = own.criterion_id
                                 and theirs.score is not null
    where l.status <> 'cancelled'
    group by l.id, l.candidate_id, l.starts_at;
$$;

-- A version per person of everything their history page is drawn from, so the
-- rendered page can be kept under it (web::render_cache) as feedback's is:
-- their loops as candidate or interviewer, those loops' rounds and scorecards,
-- and their score points. Bumped by triggers, so no write path can forget it.
-- Updates that history does not show (the timer, a draft being typed) leave it.
create table history_versions (
    user_id uuid primary key references users (id) on delete cascade,
    version bigint not null
);

-- Bumps everyone in `people`, and the candidate and interviewers of `loop_ids`.
-- Joining users skips someone whose account is being deleted in this statement;
-- rows are locked in id order, so two writers on the same loop cannot deadlock.
create function history_versions_bump(people uuid[], loop_ids uuid[]) returns void language sql as $$
    insert into history_versions as h (user_id, version)
    select u.id, 1
    from (select unnest(people)
          union select l.candidate_id from unnest(loop_ids) as x (id) join loops l on l.id = x.id
          union select r.interviewer_id from unnest(loop_ids) as x (id) join rounds r on r.loop_id = x.id) as p (id)
    join users u on u.id = p.id
    order by u.id
    on conflict (user_id) do update set version = h.version + 1;
$$;

create function loops_bump_history() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array(select candidate_id from changed), array(select id from changed));
    return null;
end $$;

create function rounds_bump_history() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array(select interviewer_id from changed), array(select distinct loop_id from changed));
    return null;
end $$;

create function rounds_bump_history_on_reassign() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array[old.interviewer_id, new.interviewer_id], array[new.loop_id]);
    return null;
end $$;

create function scorecards_bump_history() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array(select author_id from changed),
                                  array(select distinct r.loop_id from rounds r join changed c on c.round_id = r.id));
    return null;
end $$;

create function scorecards_bump_history_on_change() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array[old.author_id, new.author_id],
                                  array(select loop_id from rounds where id = new.round_id));
    return null;
end $$;

create function loop_score_points_bump_history() returns trigger language plpgsql as $$
begin
    perform history_versions_bump(array(select distinct candidate_id from changed), '{}');
    return null;
end $$;

create trigger loops_added_history after insert on loops
    referencing new table as changed for each statement execute function loops_bump_history();
create trigger loops_changed_history after update on loops
    referencing new table as changed for each statement execute function loops_bump_history();
create trigger loops_removed_history after delete on loops
    referencing old table as changed for each statement execute function loops_bump_history();

create trigger rounds_added_history after insert on rounds
    referencing new table as changed for each statement execute function rounds_bump_history();
create trigger rounds_removed_history after delete on rounds
    referencing old table as changed for each statement execute function rounds_bump_history();
create trigger rounds_reassigned_history after update of interviewer_id on rounds
    for each row when (old.interviewer_id is distinct from new.interviewer_id)
    execute function rounds_bump_history_on_reassign();

create trigger scorecards_added_history after insert on scorecards
    referencing new table as changed for each statement execute function scorecards_bump_history();
create trigger scorecards_removed_history after delete on scorecards
    referencing old table as changed for each statement execute function scorecards_bump_history();
-- A draft being typed changes nothing history shows; a status, a withdrawal or
-- an amendment to a submitted card (calibration reads its scores) does.
create trigger scorecards_changed_history after update on scorecards
    for each row when (old.status is distinct from new.status or new.status <> 'draft'
                       or old.author_withdrawn_at is distinct from new.author_withdrawn_at)
    execute function scorecards_bump_history_on_change();

create trigger loop_score_points_added_history after insert on loop_score_points
    referencing new table as changed for each statement execute function loop_score_points_bump_history();
create trigger loop_score_points_removed_history after delete on loop_score_points
    referencing old table as changed for each statement execute function loop_score_points_bump_history();

-- Shipped templates are held in memory (crate::shipped); a page reads only the
-- viewer's own, by owner.
create index loop_templates_owner_idx on loop_templates (owner_id) where owner_id is not null;

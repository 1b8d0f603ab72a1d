-- The history charts' score points, refreshed by rules the application passes
-- in rather than rules written here: which scorecard decides a round in each
-- loop mode (domain::visibility::deciding_card), and at which stage of a round's
-- two scorecards the candidate may read each one (domain::visibility::may_read_card),
-- as a table of (role, interviewer card status, self-assessment status) with ''
-- for a card not begun. db::history::refresh_score_points builds both from the
-- domain, so a rule changes in one place. The sums are as in 0005.
drop function refresh_loop_score_points(uuid[]);

create function refresh_loop_score_points(
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
             from rounds r where r.loop_id = any(loop_ids)),
         read_by_candidate as (
             select st.round_id, rd.role from stage st
             join readable rd on rd.interviewer_status = st.interviewer_status and rd.self_status = st.self_status)
    insert into loop_score_points (loop_id, candidate_id, starts_at, series, group_key, mean)
    select l.id, l.candidate_id, l.starts_at, case when grouping(c.pillar) = 0 then 'pillar' else 'kind' end,
           coalesce(c.pillar, r.kind), avg(cs.score)::float8
    from loops l
    join deciding d on d.mode = l.mode
    join rounds r on r.loop_id = l.id
    join read_by_candidate rc on rc.round_id = r.id and rc.role = d.role
    join scorecards s on s.round_id = r.id and s.role = d.role and s.status = 'submitted'
    join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
    join rubric_criteria c on c.id = cs.criterion_id
    where l.id = any(loop_ids) and l.status <> 'cancelled'
    group by grouping sets ((l.id, l.candidate_id, l.starts_at, c.pillar), (l.id, l.candidate_id, l.starts_at, r.kind))
    union all
    select l.id, l.candidate_id, l.starts_at, 'gap', '', avg(own.score - theirs.score)::float8
    from loops l
    join rounds r on r.loop_id = l.id
    join read_by_candidate read_self on read_self.round_id = r.id and read_self.role = 'self'
    join read_by_candidate read_theirs on read_theirs.round_id = r.id and read_theirs.role = 'interviewer'
    join scorecards self_card on self_card.round_id = r.id and self_card.role = 'self' and self_card.status = 'submitted'
    join scorecards int_card on int_card.round_id = r.id and int_card.role = 'interviewer' and int_card.status = 'submitted'
    join criterion_scores own on own.scorecard_id = self_card.id and own.score is not null
    join criterion_scores theirs on theirs.scorecard_id = int_card.id and theirs.criterion_id = own.criterion_id
                                 and theirs.score is not null
    where l.id = any(loop_ids) and l.status <> 'cancelled'
    group by l.id, l.candidate_id, l.starts_at;
$$;

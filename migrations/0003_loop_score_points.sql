-- Per loop, the deciding scorecards' mean score per pillar and per round kind,
-- and the self-assessment's gap to the interviewer's: the history charts read
-- these few rows per loop instead of every criterion score of every round.
-- Kept current by refresh_loop_score_points, called whenever a scorecard is
-- submitted or amended or a loop is cancelled.
create table loop_score_points (
    loop_id uuid not null references loops (id) on delete cascade,
    candidate_id uuid not null references users (id) on delete cascade,
    starts_at timestamptz not null,
    series text not null,
    group_key text not null,
    mean float8 not null,
    primary key (loop_id, series, group_key),
    constraint loop_score_points_series_check check (series in ('pillar', 'kind', 'gap'))
);
create index loop_score_points_candidate_idx on loop_score_points (candidate_id, starts_at);

create function refresh_loop_score_points(loop_ids uuid[]) returns void language sql as $$
    delete from loop_score_points where loop_id = any(loop_ids);
    -- The deciding scorecard is the candidate's own in a self-timed loop, the interviewer's in a peer loop.
    insert into loop_score_points (loop_id, candidate_id, starts_at, series, group_key, mean)
    select l.id, l.candidate_id, l.starts_at, case when grouping(c.pillar) = 0 then 'pillar' else 'kind' end,
           coalesce(c.pillar, r.kind), avg(cs.score)::float8
    from loops l
    join rounds r on r.loop_id = l.id
    join scorecards s on s.round_id = r.id and s.status = 'submitted'
                     and s.role = case l.mode when 'self_timed' then 'self' else 'interviewer' end
    join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
    join rubric_criteria c on c.id = cs.criterion_id
    where l.id = any(loop_ids) and l.status <> 'cancelled'
    group by grouping sets ((l.id, l.candidate_id, l.starts_at, c.pillar), (l.id, l.candidate_id, l.starts_at, r.kind))
    union all
    select l.id, l.candidate_id, l.starts_at, 'gap', '', avg(own.score - theirs.score)::float8
    from loops l
    join rounds r on r.loop_id = l.id
    join scorecards self_card on self_card.round_id = r.id and self_card.role = 'self' and self_card.status = 'submitted'
    join scorecards int_card on int_card.round_id = r.id and int_card.role = 'interviewer' and int_card.status = 'submitted'
    join criterion_scores own on own.scorecard_id = self_card.id and own.score is not null
    join criterion_scores theirs on theirs.scorecard_id = int_card.id and theirs.criterion_id = own.criterion_id
                                 and theirs.score is not null
    where l.id = any(loop_ids) and l.status <> 'cancelled'
    group by l.id, l.candidate_id, l.starts_at;
$$;

select refresh_loop_score_points(array(select id from loops));

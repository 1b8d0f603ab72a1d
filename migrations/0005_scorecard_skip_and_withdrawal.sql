-- Blind scoring: a peer candidate may skip their self-assessment (recorded, final)
-- to read the interviewer's scorecard without writing one.
alter table scorecards drop constraint scorecards_status_check;
alter table scorecards add constraint scorecards_status_check check (status in ('draft', 'submitted', 'skipped'));
alter table scorecards add constraint scorecards_only_self_skipped check (status <> 'skipped' or role = 'self');
-- submitted_at is when the card left draft: submitted, or skipped.
alter table scorecards drop constraint scorecards_submitted_complete;
alter table scorecards add constraint scorecards_submitted_complete check (
    status = 'draft' or (submitted_at is not null and (status = 'skipped' or recommendation is not null)));

-- Withdrawing an accepted invitation removes its interviewer from the loop; a
-- scorecard they had submitted stays on the candidate's record, marked.
alter table scorecards add column author_withdrawn_at timestamptz;
alter table scorecards add constraint scorecards_withdrawn_author_submitted check (
    author_withdrawn_at is null or (role = 'interviewer' and status = 'submitted'));

-- The history charts are the candidate's: like the feedback pages (blind_scoring::may_read),
-- they take a peer round's interviewer scores only once the candidate has submitted or
-- skipped that round's self-assessment. Otherwise as in 0003.
create or replace function refresh_loop_score_points(loop_ids uuid[]) returns void language sql as $$
    delete from loop_score_points where loop_id = any(loop_ids);
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
      and (l.mode = 'self_timed' or exists (
          select 1 from scorecards own where own.round_id = r.id and own.role = 'self'
             and own.status in ('submitted', 'skipped')))
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

select refresh_loop_score_points(array(select id from loops where mode = 'peer'));

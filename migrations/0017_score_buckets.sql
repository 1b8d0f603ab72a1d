-- History charts at any length: the per-loop score points of loop_score_points
-- summed by week and by month, so a long history's chart reads at most ~60
-- buckets a series instead of a row per loop (mean = total / points).
-- Kept by statement triggers on loop_score_points, which add and subtract the
-- changed rows in one statement each (refreshes, cascaded deletes, demo data).
create table score_buckets (
    candidate_id uuid not null references users (id) on delete cascade,
    grain text not null,
    starts_on date not null,
    series text not null,
    group_key text not null,
    total float8 not null,
    points integer not null,
    primary key (candidate_id, grain, starts_on, series, group_key),
    constraint score_buckets_grain_check check (grain in ('week', 'month'))
);

create function score_buckets_add(candidate uuid[], starts timestamptz[], series text[], group_key text[],
                                  mean float8[], sign integer) returns void language sql as $$
    insert into score_buckets as b (candidate_id, grain, starts_on, series, group_key, total, points)
    select p.candidate, g.grain, date_trunc(g.grain, p.starts at time zone 'UTC')::date, p.series, p.group_key,
           sign * sum(p.mean), sign * count(*)
    from unnest(candidate, starts, series, group_key, mean) as p (candidate, starts, series, group_key, mean)
    cross join (values ('week'), ('month')) as g (grain)
    group by 1, 2, 3, 4, 5
    on conflict (candidate_id, grain, starts_on, series, group_key)
    do update set total = b.total + excluded.total, points = b.points + excluded.points;
    delete from score_buckets where points <= 0 and candidate_id = any(candidate);
$$;

create function loop_score_points_to_buckets() returns trigger language plpgsql as $$
begin
    if tg_op in ('DELETE', 'UPDATE') then
        perform score_buckets_add(array_agg(candidate_id), array_agg(starts_at), array_agg(series),
                                  array_agg(group_key), array_agg(mean), -1)
        from removed;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform score_buckets_add(array_agg(candidate_id), array_agg(starts_at), array_agg(series),
                                  array_agg(group_key), array_agg(mean), 1)
        from added;
    end if;
    return null;
end $$;

create trigger loop_score_points_added after insert on loop_score_points
    referencing new table as added for each statement execute function loop_score_points_to_buckets();
create trigger loop_score_points_removed after delete on loop_score_points
    referencing old table as removed for each statement execute function loop_score_points_to_buckets();
create trigger loop_score_points_changed after update on loop_score_points
    referencing old table as removed new table as added for each statement execute function loop_score_points_to_buckets();

insert into score_buckets (candidate_id, grain, starts_on, series, group_key, total, points)
select candidate_id, g.grain, date_trunc(g.grain, starts_at at time zone 'UTC')::date, series, group_key, sum(mean), count(*)
from loop_score_points cross join (values ('week'), ('month')) as g (grain)
group by 1, 2, 3, 4, 5;

-- History's "as an interviewer" reads the interviewer scorecards someone
-- submitted; through scorecards_author_idx it also visited every self-assessment
-- they wrote as a candidate (thousands in a long history).
create index scorecards_submitted_interviewer_idx on scorecards (author_id)
    where role = 'interviewer' and status = 'submitted' and author_withdrawn_at is null;

-- History's template filter lists the templates of someone's loops from the index alone.
create index loops_candidate_template_idx on loops (candidate_id, template_name);

-- Rounds with two questions track which one is running and when it began
-- (elapsed milliseconds at the switch), so each question's budget can be checked.
alter table rounds
    add column current_question smallint not null default 1,
    add column question_switch_ms bigint not null default 0,
    add constraint rounds_current_question_range check (current_question between 1 and 2),
    add constraint rounds_question_switch_nonnegative check (question_switch_ms >= 0);

alter table timer_events drop constraint timer_events_action_check;
alter table timer_events add constraint timer_events_action_check
    check (action in ('start', 'pause', 'resume', 'extend', 'next_question', 'end'));

-- Double-submitted "create loop" forms carry the same key and create one loop.
alter table loops add column request_key uuid;
create unique index loops_request_key_idx on loops (candidate_id, request_key) where request_key is not null;

-- "Not assessed" (no evidence either way) is an answer; a null score without it is unanswered.
alter table criterion_scores
    add column not_assessed boolean not null default false,
    add constraint criterion_scores_not_assessed_unscored check (not (not_assessed and score is not null));

-- Each time the candidate ran the question's tests in their browser: when (on
-- the wall clock and the round's clock), which question and code version,
-- how it ended, and the per-case results that the page shows again after a
-- reload. Written only by the round's candidate (web::code_runs).
create table code_runs (
    id bigint generated always as identity primary key,
    round_id uuid not null references rounds (id) on delete cascade,
    ran_at timestamptz not null default now(),
    round_elapsed_ms bigint not null,
    question_position smallint not null,
    language text not null,
    outcome text not null,
    code_version integer not null,
    passed integer not null,
    total integer not null,
    duration_ms bigint not null,
    message text not null default '',
    results jsonb not null,
    constraint code_runs_language_check check (language in ('python', 'cpp')),
    constraint code_runs_outcome_check check (outcome in ('completed', 'timed_out', 'crashed')),
    constraint code_runs_counts check (passed between 0 and total and total between 1 and 200),
    -- domain::code_runs keeps at most 1 000 000 characters of results per run.
    constraint code_runs_results_size check (octet_length(results::text) <= 6000000)
);
create index code_runs_round on code_runs (round_id, id);

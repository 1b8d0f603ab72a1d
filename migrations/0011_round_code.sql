-- The candidate's code in a round: one text per round, in the language they
-- picked, with a version number so that concurrent edits are detected (as
-- notes are), never overwritten. Written only by the round's candidate.
create table round_code (
    round_id uuid primary key references rounds (id) on delete cascade,
    language text not null,
    body text not null default '',
    version integer not null default 0,
    updated_at timestamptz not null default now(),
    constraint round_code_language_check check (language in ('python', 'cpp')),
    -- web::rounds::MAX_CODE_BYTES is 100 000; the database allows a little more.
    constraint round_code_body_size check (octet_length(body) <= 200000)
);

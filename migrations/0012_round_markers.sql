-- Markers the interviewer drops during a round ("asked about complexity here"),
-- at a time on the round's clock; the feedback timeline shows them with the
-- candidate's test runs. Written only by the round's interviewer (web::markers).
create table round_markers (
    id bigint generated always as identity primary key,
    round_id uuid not null references rounds (id) on delete cascade,
    round_elapsed_ms bigint not null,
    label text not null,
    created_at timestamptz not null default now(),
    -- web::markers::MAX_MARKER_CHARS is 200; the database allows a little more.
    constraint round_markers_label_size check (char_length(label) between 1 and 300)
);
create index round_markers_round on round_markers (round_id, round_elapsed_ms);

-- The signalling of a peer round's 1:1 call: the two browsers' WebRTC offers,
-- answers and network candidates, and their join and leave. Media never
-- passes through mockloop; these rows only let the two browsers find each
-- other across instances (each insert is announced on mockloop_call), and let
-- a reconnecting event stream resume after the last id it saw. They go when
-- the round ends, and are pruned after a few hours: nothing of a call is kept.
create table call_signals (
    id bigint generated always as identity primary key,
    round_id uuid not null references rounds (id) on delete cascade,
    sender_id uuid not null references users (id) on delete cascade,
    kind text not null,
    body text not null,
    created_at timestamptz not null default now(),
    constraint call_signals_kind check (kind in ('join', 'leave', 'description', 'candidate')),
    -- domain::call allows 32 KiB per message; the database a little more.
    constraint call_signals_body_size check (octet_length(body) <= 40000)
);

create index call_signals_round_id on call_signals (round_id, id);

-- The peer board: people post when they are free and what they want to
-- practise; someone else claims a slot, which becomes a swap of one or two
-- one-round peer loops (domain::peer_board). Notices tell each side what
-- happened to their swaps; every insert or read is announced on
-- mockloop_notices with the user's id, so their open pages update the count.

create table peer_slots (
    id uuid primary key default gen_random_uuid(),
    poster_id uuid not null references users (id) on delete cascade,
    -- Slots posted together with a weekly repeat share a series.
    series_id uuid not null,
    starts_at timestamptz not null,
    minutes smallint not null,
    time_zone text not null,
    swap_mode text not null default 'reciprocal',
    wants_kinds text[] not null,
    can_interview text[] not null,
    team text,
    level text not null,
    show_loop_count boolean not null default false,
    status text not null default 'open',
    claimed_by uuid references users (id) on delete set null,
    claimed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint peer_slots_minutes_range check (minutes between 30 and 120),
    constraint peer_slots_swap_mode check (swap_mode in ('reciprocal', 'one_way')),
    constraint peer_slots_status check (status in ('open', 'claimed', 'withdrawn')),
    constraint peer_slots_wants_kinds check (cardinality(wants_kinds) between 1 and 6),
    constraint peer_slots_can_interview check (cardinality(can_interview) <= 6),
    constraint peer_slots_level check (level in ('junior_mid', 'senior_staff')),
    constraint peer_slots_claimed check ((status = 'claimed') = (claimed_at is not null))
);
create index peer_slots_open on peer_slots (starts_at) where status = 'open';
create index peer_slots_poster on peer_slots (poster_id, starts_at);
create trigger peer_slots_updated_at before update on peer_slots
    for each row execute function set_updated_at();

create table peer_swaps (
    id uuid primary key default gen_random_uuid(),
    slot_id uuid not null references peer_slots (id) on delete cascade,
    poster_id uuid references users (id) on delete set null,
    claimer_id uuid references users (id) on delete set null,
    swap_mode text not null,
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    -- The poster is the candidate of the first, the claimer of the second (reciprocal only).
    poster_loop_id uuid references loops (id) on delete set null,
    claimer_loop_id uuid references loops (id) on delete set null,
    status text not null default 'scheduled',
    cancelled_by uuid references users (id) on delete set null,
    cancelled_at timestamptz,
    -- Marked by the other side after the swap's time has passed.
    poster_no_show_at timestamptz,
    claimer_no_show_at timestamptz,
    created_at timestamptz not null default now(),
    constraint peer_swaps_one_per_slot unique (slot_id),
    constraint peer_swaps_swap_mode check (swap_mode in ('reciprocal', 'one_way')),
    constraint peer_swaps_status check (status in ('scheduled', 'cancelled')),
    constraint peer_swaps_cancelled check ((status = 'cancelled') = (cancelled_at is not null))
);
create index peer_swaps_poster on peer_swaps (poster_id, starts_at);
create index peer_swaps_claimer on peer_swaps (claimer_id, starts_at);
create index peer_swaps_upcoming on peer_swaps (starts_at) where status = 'scheduled';

create table peer_notices (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    swap_id uuid not null references peer_swaps (id) on delete cascade,
    kind text not null,
    created_at timestamptz not null default now(),
    read_at timestamptz,
    constraint peer_notices_kind check (kind in ('claimed', 'cancelled', 'starting_soon')),
    constraint peer_notices_once unique (user_id, swap_id, kind)
);
create index peer_notices_unread on peer_notices (user_id) where read_at is null;
create index peer_notices_user on peer_notices (user_id, created_at desc);

create function peer_notices_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('mockloop_notices', new.user_id::text);
    return null;
end;
$$;
create trigger peer_notices_changed after insert or update of read_at on peer_notices
    for each row execute function peer_notices_notify();

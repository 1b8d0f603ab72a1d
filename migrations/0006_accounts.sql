-- Accounts people manage: sessions listed (and ended) one by one, accounts the
-- operator can disable, and submitted scorecards that outlive their author's account.

alter table users add column disabled_at timestamptz;

-- The public id names a session in the sessions list (the primary key is the
-- hash of the cookie's secret and never leaves the server); the rest is shown there.
alter table sessions
    add column id uuid not null default gen_random_uuid(),
    add column last_seen_at timestamptz not null default now(),
    add column user_agent text,
    add column client_ip text,
    add constraint sessions_user_agent_length check (char_length(user_agent) <= 300),
    add constraint sessions_client_ip_length check (char_length(client_ip) <= 64);
create unique index sessions_id_key on sessions (id);

-- When an interviewer deletes their account, their submitted scorecards stay on
-- the candidate's record without an author; drafts are deleted with the account
-- (the check makes forgetting that an error instead of an orphaned draft).
alter table scorecards
    alter column author_id drop not null,
    drop constraint scorecards_author_id_fkey,
    add constraint scorecards_author_id_fkey foreign key (author_id) references users (id) on delete set null,
    add constraint scorecards_authorless_only_submitted check (author_id is not null or status = 'submitted');

-- A round accepted by an account since deleted stays accepted (its link does not
-- open again for whoever else holds it); only who accepted it is forgotten.
alter table invitation_rounds
    drop constraint invitation_rounds_acceptance_complete,
    add constraint invitation_rounds_acceptance_complete check (accepted_by is null or accepted_at is not null);

-- Deleting an account follows every reference to it; without these each
-- deletion would read these tables whole.
create index notes_author_idx on notes (author_id);
create index invitations_created_by_idx on invitations (created_by);
create index invitation_rounds_accepted_by_idx on invitation_rounds (accepted_by) where accepted_by is not null;
create index timer_events_actor_idx on timer_events (actor_id) where actor_id is not null;
create index scorecard_amendments_author_idx on scorecard_amendments (author_id) where author_id is not null;

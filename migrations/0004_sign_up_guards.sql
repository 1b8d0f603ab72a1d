-- Sign-up guards: usernames compared by how they look, and sign-ups counted
-- per client address.

-- A username's look-alike form (domain::username::Username::skeleton, set by
-- the app on sign-up); no two accounts share one. Accounts made before this
-- get theirs from the same rule written in SQL, except where an older
-- account already looks the same: those keep none, so the index can be built.
alter table users add column username_skeleton text;
update users
set username_skeleton = skeletons.skeleton
from (
    select id, skeleton, row_number() over (partition by skeleton order by created_at, id) as nth
    from (
        select id, created_at, translate(replace(replace(username, 'rn', 'm'), 'vv', 'w'), '01i', 'oll') as skeleton
        from users
    ) as named
) as skeletons
where skeletons.id = users.id and skeletons.nth = 1;
create unique index users_username_skeleton_key on users (username_skeleton);

-- Sign-ups that reached password hashing, for the per-address limit.
create table sign_up_attempts (
    id bigint generated always as identity primary key,
    client_ip text not null,
    attempted_at timestamptz not null default now()
);
create index sign_up_attempts_client_ip_idx on sign_up_attempts (client_ip, attempted_at);

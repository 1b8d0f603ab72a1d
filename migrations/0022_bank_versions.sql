-- The bank page is kept rendered under the versions of what it lists: the
-- shipped questions and the viewer's own. Triggers bump them, so no write
-- path can forget to. The shipped bank is kept under the nil UUID. Joining
-- users skips an account being deleted in the same statement; a deleted
-- account's row is left behind (a few bytes, never read again).
create table bank_versions (
    owner_key uuid primary key,
    version bigint not null
);

create function bank_versions_bump(owners uuid[]) returns void language sql as $$
    insert into bank_versions as b (owner_key, version)
    select distinct coalesce(o.id, '00000000-0000-0000-0000-000000000000'::uuid), 1::bigint
    from unnest(owners) as o (id)
    where o.id is null or exists (select 1 from users u where u.id = o.id)
    order by 1
    on conflict (owner_key) do update set version = b.version + 1;
$$;

create function questions_bump_bank() returns trigger language plpgsql as $$
begin
    perform bank_versions_bump(array(select owner_id from changed));
    return null;
end $$;

create trigger questions_added_bank after insert on questions
    referencing new table as changed for each statement execute function questions_bump_bank();
create trigger questions_changed_bank after update on questions
    referencing new table as changed for each statement execute function questions_bump_bank();
create trigger questions_removed_bank after delete on questions
    referencing old table as changed for each statement execute function questions_bump_bank();

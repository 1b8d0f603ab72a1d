-- Ending a session must end its live event streams on every instance, however
-- it ends: sign-out, "sign out everywhere", a password change, an account
-- deleted (the cascade deletes its sessions), or an expiry moved to the past.
-- Each instance LISTENs on mockloop_sessions for the hex of the ended id_hash.
create function notify_session_ended() returns trigger language plpgsql as $$
begin
    perform pg_notify('mockloop_sessions', encode(old.id_hash, 'hex'));
    return null;
end;
$$;

create trigger sessions_deleted_notify after delete on sessions
    for each row execute function notify_session_ended();

create trigger sessions_expired_notify after update of expires_at on sessions
    for each row when (new.expires_at <= now() and old.expires_at > now())
    execute function notify_session_ended();

-- What the workers' in-memory caches need from the schema (issue 8, items 2, 5, 6 and 7): every
-- change a worker must hear of is notified, under every key it was known by, and every row the
-- loader reads is one it can represent (lib/store/pg/listener.cc, lib/store/notification.h).

-- A renamed account is notified under its old and its new name (the old name's tickets and
-- tokens must die on every worker), a deleted one under its old name.
CREATE OR REPLACE FUNCTION tessera_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('tessera_accounts', OLD.userid);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('tessera_accounts', NEW.userid);
  END IF;
  RETURN NULL;
END $$;

-- Tickets name the account, not its id. When a name leaves an account (DELETE, or a rename) it is
-- retired with a session epoch past every ticket issued under it; an account that takes the name
-- later (INSERT, or a rename) starts at that epoch, so no ticket of the name's previous holder is
-- ever honoured for it. Tickets live 7200 s, so a retirement older than a day is forgotten.
-- accounts.id keys the account's storage: it never changes.
CREATE TABLE retired_userids (
  userid        text        PRIMARY KEY,
  session_epoch bigint      NOT NULL,
  retired_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION tessera_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  retired bigint;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'accounts.id never changes' USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' OR NEW.userid IS DISTINCT FROM OLD.userid THEN
    IF TG_OP <> 'INSERT' THEN
      DELETE FROM retired_userids WHERE retired_at < now() - interval '1 day';
      -- Issue() may stamp a ticket at the epoch, a second ahead of the clock.
      INSERT INTO retired_userids AS r (userid, session_epoch)
      VALUES (OLD.userid, GREATEST(floor(extract(epoch FROM clock_timestamp()))::bigint + 2,
                                   OLD.session_epoch + 1))
      ON CONFLICT (userid) DO UPDATE
        SET session_epoch = GREATEST(r.session_epoch, EXCLUDED.session_epoch), retired_at = now();
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    SELECT r.session_epoch INTO retired FROM retired_userids r WHERE r.userid = NEW.userid;
    IF retired IS NOT NULL THEN
      NEW.session_epoch := GREATEST(NEW.session_epoch, retired);
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_guard BEFORE INSERT OR UPDATE OR DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION tessera_account_guard();

-- A grant whose jti changes is notified under both (the old one must leave every cache).
CREATE OR REPLACE FUNCTION tessera_notify_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('tessera_tokens', OLD.jti);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('tessera_tokens', NEW.jti);
  END IF;
  RETURN NULL;
END $$;

-- The expiry of a revocation may be 'infinity' (kept for good) or '-infinity'; the payload says
-- so in words, where extract(epoch ...)::bigint would fail the INSERT.
CREATE OR REPLACE FUNCTION tessera_notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_revocations', NEW.ticket_hash || ' ' ||
    CASE WHEN NEW.expires_at = 'infinity' THEN 'infinity'
         WHEN NEW.expires_at = '-infinity' THEN '-infinity'
         ELSE floor(extract(epoch FROM NEW.expires_at))::bigint::text END);
  RETURN NULL;
END $$;

-- TRUNCATE fires no row trigger: ask every worker to reload everything ('*').
CREATE FUNCTION tessera_notify_reload() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '*');
  RETURN NULL;
END $$;
CREATE TRIGGER accounts_truncate_notify AFTER TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_reload('tessera_accounts');
CREATE TRIGGER api_tokens_truncate_notify AFTER TRUNCATE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_reload('tessera_tokens');
CREATE TRIGGER revoked_tickets_truncate_notify AFTER TRUNCATE ON revoked_tickets
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_reload('tessera_revocations');

-- What the loader cannot represent is refused. Timestamps: every value a timestamptz holds,
-- 'infinity' and '-infinity' included, loads (infinity = never, -infinity = already), so they
-- need no constraint. A userid is at most 64 characters (0001) but the workers count bytes.
-- A grant's repository is a repository path (at most 4 × 64 + 3 bytes). NOT VALID: rows written
-- before stay (the loader refuses such a row alone, and logs it) and every new write is checked.
ALTER TABLE accounts ADD CONSTRAINT accounts_userid_bytes
  CHECK (octet_length(userid) BETWEEN 3 AND 64) NOT VALID;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_repo_bytes
  CHECK (repo IS NULL OR octet_length(repo) BETWEEN 1 AND 259) NOT VALID;

-- Tickets for people (DESIGN.md, "Ticket API"): server-side logout, session ends on password
-- change or disable, failed-login throttling shared by every worker, and the audit log.

-- Tickets issued before session_epoch (Unix seconds) are dead: a password change or a disable
-- moves it to now(), ending every session of the account at once.
ALTER TABLE accounts ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0;

-- Tickets revoked by logout, kept until they would have expired anyway. The key is the SHA-256
-- of the ticket's signature (never the ticket itself).
CREATE TABLE revoked_tickets (
  ticket_hash text        PRIMARY KEY CHECK (ticket_hash ~ '^[0-9a-f]{64}$'),
  userid      text        NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX revoked_tickets_expiry ON revoked_tickets (expires_at);

-- Failed logins per account ('user:<userid>') and per client address ('addr:<address>').
CREATE TABLE login_failures (
  subject      text        PRIMARY KEY,
  failures     integer     NOT NULL,
  window_start timestamptz NOT NULL
);

-- What happened at the door, with the real reason a login failed (clients only see 401).
CREATE TABLE auth_audit (
  id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  event    text        NOT NULL,
  userid   text,
  client   text,
  reason   text
);
CREATE INDEX auth_audit_at ON auth_audit (at);

-- Workers keep account state and revocations in memory and listen for changes.
CREATE FUNCTION tessera_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_accounts', COALESCE(NEW.userid, OLD.userid));
  RETURN NULL;
END $$;
CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION tessera_notify_account();

CREATE FUNCTION tessera_notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_revocations', NEW.ticket_hash || ' ' || extract(epoch FROM NEW.expires_at)::bigint);
  RETURN NULL;
END $$;
CREATE TRIGGER revoked_tickets_notify AFTER INSERT ON revoked_tickets
  FOR EACH ROW EXECUTE FUNCTION tessera_notify_revocation();

-- A password change, disable, expiry, epoch bump, rename or deletion of an account ends every
-- session of it (DESIGN.md, "Ticket API"). A password change is an epoch bump: tessera-admin
-- account passwd sets session_epoch with the new hash (a hash rewritten by itself is the worker
-- upgrading the same password to a new Argon2id cost, which ends nothing). Each session is
-- marked ended and every unexpired ticket
-- it issued goes into revoked_tickets, whose trigger tells every worker. This does not rely on
-- ticket stamps (session_epoch) alone, so no ticket survives the change however it was stamped,
-- and a disabled account that is enabled again does not bring its old tickets back.
--
-- The sessions are ended first: that takes their row locks, so a renewal in flight either has
-- recorded its ticket (and the INSERT below, a new statement with a fresh snapshot, revokes it)
-- or waits and finds its session ended. On DELETE the trigger runs before the cascade removes
-- the sessions.
CREATE FUNCTION tessera_end_account_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND NEW.enabled IS NOT DISTINCT FROM OLD.enabled
     AND NEW.session_epoch IS NOT DISTINCT FROM OLD.session_epoch
     AND NEW.userid IS NOT DISTINCT FROM OLD.userid
     AND NOT (NEW.expires_at IS DISTINCT FROM OLD.expires_at AND NEW.expires_at <= now()) THEN
    RETURN NULL;
  END IF;
  UPDATE sessions SET ended_at = now() WHERE account_id = OLD.id AND ended_at IS NULL;
  INSERT INTO revoked_tickets (ticket_hash, userid, expires_at)
  SELECT t.ticket_hash, OLD.userid, t.expires_at
    FROM session_tickets t JOIN sessions s ON s.id = t.session_id
   WHERE s.account_id = OLD.id AND t.expires_at > now()
  ON CONFLICT (ticket_hash) DO NOTHING;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER accounts_end_sessions_on_change AFTER UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION tessera_end_account_sessions();
CREATE TRIGGER accounts_end_sessions_on_delete BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION tessera_end_account_sessions();

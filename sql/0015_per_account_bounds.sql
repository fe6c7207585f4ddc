-- Per-account bounds on what logins grow (issue 21, DESIGN.md "Ticket API"): no account's logins,
-- nor anyone's failed logins against one account, can grow a table without end.
--
-- Sessions. A password login starts its session through tessera_start_session, which keeps at
-- most p_max_sessions live sessions of the account: beyond that the ones renewed least recently
-- end (their unexpired tickets are revoked, which tells every worker, as at a logout), and
-- sessions that have ended (logged out, pushed out, ended by an account change: their tickets
-- are all revoked) are deleted. So an account has at most p_max_sessions session rows after any
-- login, however many logins run in a loop. Ending the oldest rather than refusing the login is
-- what a person expects: the new login is the one they are making now, and the session least
-- recently used is the one most likely forgotten in a closed browser; refusing would let an
-- abandoned or stolen session lock the owner out.
--
-- Concurrency: the account row is locked first (FOR NO KEY UPDATE: two logins of one account
-- take turns; a renewal or logout, which lock only session rows, never wait for it, and the
-- account-change trigger of sql/0007 takes the same order: account, then sessions). Sessions are
-- ended before their tickets are revoked, as in sql/0007: ending takes each session's row lock,
-- so a renewal in flight has either recorded its ticket (and the INSERT, a new statement with a
-- fresh snapshot, revokes it) or waits and finds its session gone.
CREATE FUNCTION tessera_start_session(p_userid text, p_ticket_hash text,
                                      p_expires_at timestamptz, p_max_sessions integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_account bigint;
  v_session bigint;
BEGIN
  SELECT id INTO v_account FROM accounts WHERE userid = p_userid FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO sessions (account_id) VALUES (v_account) RETURNING id INTO v_session;
  -- A duplicate ticket fails here (23505), and the whole call with it: the caller stamps another.
  INSERT INTO session_tickets (ticket_hash, session_id, expires_at)
    VALUES (p_ticket_hash, v_session, p_expires_at);

  UPDATE sessions SET ended_at = now()
   WHERE account_id = v_account AND ended_at IS NULL
     AND id NOT IN (SELECT id FROM sessions
                     WHERE account_id = v_account AND ended_at IS NULL
                     ORDER BY renewed_at DESC, id DESC
                     LIMIT greatest(p_max_sessions, 1));
  INSERT INTO revoked_tickets (ticket_hash, userid, expires_at)
  SELECT t.ticket_hash, p_userid, t.expires_at
    FROM session_tickets t JOIN sessions s ON s.id = t.session_id
   WHERE s.account_id = v_account AND s.ended_at IS NOT NULL AND t.expires_at > now()
  ON CONFLICT (ticket_hash) DO NOTHING;
  DELETE FROM sessions WHERE account_id = v_account AND ended_at IS NOT NULL;
  RETURN v_session;
END $$;

-- A ticket is issued once. session_tickets' key keeps a stamp from being reused while its session
-- is held; now that ended sessions are deleted, a revoked ticket's stamp would be free again, and
-- the same user stamped in the same second makes the same ticket (Ed25519 is deterministic): one
-- born revoked. So a ticket already revoked is refused like a duplicate (23505), and the worker
-- stamps another. A revoked ticket is held until it expires, past which no new stamp reaches it.
CREATE FUNCTION tessera_ticket_not_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM revoked_tickets WHERE ticket_hash = NEW.ticket_hash) THEN
    RAISE EXCEPTION 'ticket was issued before and is revoked' USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER session_tickets_not_revoked BEFORE INSERT ON session_tickets
  FOR EACH ROW EXECUTE FUNCTION tessera_ticket_not_revoked();

-- Throttle rows. A pair row (per account and client network) names its account, so the number
-- of networks whose failures are counted against one account can be bounded (ReserveAttempt,
-- lib/store/pg/pg_database.cc): past the bound, a new network's attempts against that account
-- are counted on its own network's row only, under the pair limit, so an attacker with many
-- networks (IPv6 /64s) cannot grow the rows of one account without end, and the owner, whose
-- network has no row, still logs in.
ALTER TABLE login_failures ADD COLUMN account_key text;
CREATE INDEX login_failures_account ON login_failures (account_key, window_start)
  WHERE account_key IS NOT NULL;

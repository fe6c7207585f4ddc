-- Sessions of people (DESIGN.md, "Ticket API"): a password login starts a session, every
-- renewal adds its ticket to it, and logout ends it — revoking every ticket of the renewal chain,
-- not only the one presented. Tickets keep the PBS wire format; the session lives here.
--
-- Also the indexes retention needs: the worker prunes auth_audit, login_failures, sessions and
-- revoked_tickets in small batches on the login path (see lib/auth/ticket_service.h).

CREATE TABLE sessions (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The immutable account id: a renamed, deleted or re-created account never continues a
  -- session of the old one.
  account_id bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  started_at timestamptz NOT NULL DEFAULT now(),
  renewed_at timestamptz NOT NULL DEFAULT now(),
  ended_at   timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_renewed ON sessions (renewed_at);

-- Every ticket a session issued, by its revocation id (SHA-256 of the signature, lower-case hex,
-- as in revoked_tickets; never the ticket itself).
CREATE TABLE session_tickets (
  ticket_hash text        PRIMARY KEY CHECK (ticket_hash ~ '^[0-9a-f]{64}$'),
  session_id  bigint      NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX session_tickets_session ON session_tickets (session_id);
CREATE INDEX session_tickets_expiry ON session_tickets (expires_at);

CREATE INDEX login_failures_window ON login_failures (window_start);

-- Ends the session that issued ticket `p_ticket_hash` and revokes every unexpired ticket of it
-- (the revoked_tickets trigger tells every worker); the presented ticket is revoked even when it
-- has no session (issued before sessions existed). Returns the revoked tickets.
--
-- Concurrency: the UPDATE takes the session's row lock, so it waits for a renewal in flight
-- (which locks the same row). That renewal has then either recorded its ticket, which the
-- INSERT below sees (a statement of a volatile function takes a fresh snapshot), or it waited for
-- this lock and finds the session ended. No renewal can leave a live ticket behind a logout.
CREATE FUNCTION tessera_end_session(p_ticket_hash text, p_userid text, p_expires_at timestamptz)
RETURNS TABLE (revoked_hash text, revoked_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_session bigint;
BEGIN
  UPDATE sessions s SET ended_at = COALESCE(s.ended_at, now())
    FROM session_tickets t
   WHERE t.ticket_hash = p_ticket_hash AND s.id = t.session_id
  RETURNING s.id INTO v_session;

  INSERT INTO revoked_tickets AS r (ticket_hash, userid, expires_at)
  SELECT DISTINCT ON (x.h) x.h, p_userid, x.e
    FROM (SELECT t.ticket_hash AS h, t.expires_at AS e FROM session_tickets t
           WHERE t.session_id = v_session AND t.expires_at > now()
          UNION ALL
          SELECT p_ticket_hash, p_expires_at) AS x
   ORDER BY x.h, x.e DESC
  ON CONFLICT (ticket_hash) DO NOTHING;

  RETURN QUERY
  SELECT t.ticket_hash, t.expires_at FROM session_tickets t
   WHERE t.session_id = v_session AND t.expires_at > now() AND t.ticket_hash <> p_ticket_hash
  UNION ALL
  SELECT p_ticket_hash, p_expires_at;
END $$;

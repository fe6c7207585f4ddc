-- Bearer-token grants (DESIGN.md, "Bearer tokens"): every token is a row here, and a token is
-- honoured only while its row exists, is unrevoked and unexpired. Revoke with
--   UPDATE api_tokens SET revoked_at = now() WHERE jti = '...';
-- (or a site migration); the trigger tells every worker at once.
CREATE TABLE api_tokens (
  jti        text        PRIMARY KEY CHECK (jti ~ '^[A-Za-z0-9_-]{1,64}$'),
  userid     text        NOT NULL REFERENCES accounts (userid) ON DELETE CASCADE ON UPDATE CASCADE,
  read       boolean     NOT NULL DEFAULT false,
  write      boolean     NOT NULL DEFAULT false,
  delete     boolean     NOT NULL DEFAULT false,
  repo       text,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_tokens_userid ON api_tokens (userid);

-- Makes a grant and returns its jti; the worker's key (tessera-admin token mint --jti) turns it
-- into a token string, and can do so again from the row.
CREATE FUNCTION tessera_grant_token(p_userid text, p_read boolean, p_write boolean,
                                    p_delete boolean, p_repo text, p_lifetime interval)
RETURNS text LANGUAGE sql AS $$
  INSERT INTO api_tokens (jti, userid, read, write, delete, repo, expires_at)
  VALUES (replace(gen_random_uuid()::text, '-', ''), p_userid, p_read, p_write, p_delete, p_repo,
          now() + p_lifetime)
  RETURNING jti
$$;

CREATE FUNCTION tessera_notify_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_tokens', COALESCE(NEW.jti, OLD.jti));
  RETURN NULL;
END $$;
CREATE TRIGGER api_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION tessera_notify_token();

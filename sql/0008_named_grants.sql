-- Named grants and the functions an admin manages people and tokens with (DESIGN.md, "Bearer
-- tokens"), in the schema `tessera`:
--   SELECT tessera.grant_token('alice@pbs', 'laptop', read => true, write => true,
--                              repo => 'laptop', valid_for => '90 days');
--   SELECT tessera.revoke_token('alice@pbs', 'laptop');
-- Each raises a clear error (unknown account, duplicate name, bad repository path, ...) instead of
-- leaving a half-made row. Grants a person makes for themselves through the ticket API go through
-- tessera.grant_own_token, which holds them to their account's token ceiling.

CREATE SCHEMA tessera;

-- A grant's name is unique per account among live (unrevoked) grants; a revoked name can be used
-- again. Rows written before this migration are named after their jti, and so is a row inserted
-- without a name (the trigger below), so existing INSERTs and tessera_grant_token keep working.
-- The grammar is Proxmox's token-name grammar, bounded: it fits in `userid!name` and in a URL
-- path segment as it is. NOT VALID: an old jti outside it stays as it is.
ALTER TABLE api_tokens DISABLE TRIGGER api_tokens_notify;  -- naming changes nothing a worker holds
ALTER TABLE api_tokens ADD COLUMN name text;
UPDATE api_tokens SET name = jti;
ALTER TABLE api_tokens ENABLE TRIGGER api_tokens_notify;
ALTER TABLE api_tokens ALTER COLUMN name SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_name
  CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$') NOT VALID;
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (userid, name) WHERE revoked_at IS NULL;

CREATE FUNCTION tessera_name_grant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := COALESCE(NEW.name, NEW.jti);
  RETURN NEW;
END $$;
CREATE TRIGGER api_tokens_name BEFORE INSERT ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION tessera_name_grant();

-- What a person may grant themselves through the ticket API (the admin's own functions are not
-- bound by it): which rights, which repositories (NULL: any, including all of them at once;
-- otherwise exactly one of those listed), how long at most, and how many live grants at once.
ALTER TABLE accounts
  ADD COLUMN token_read         boolean  NOT NULL DEFAULT true,
  ADD COLUMN token_write        boolean  NOT NULL DEFAULT true,
  ADD COLUMN token_delete       boolean  NOT NULL DEFAULT false,
  ADD COLUMN token_repos        text[],
  ADD COLUMN token_max_lifetime interval NOT NULL DEFAULT '90 days'
             CHECK (token_max_lifetime > interval '0' AND token_max_lifetime <= interval '10 years'),
  ADD COLUMN token_max_count    integer  NOT NULL DEFAULT 100 CHECK (token_max_count >= 0);

-- The account row, or a clear error.
CREATE FUNCTION tessera.account_row(account text) RETURNS accounts
LANGUAGE plpgsql AS $$
DECLARE
  row accounts;
BEGIN
  SELECT * INTO row FROM accounts a WHERE a.userid = account;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown account %', quote_literal(account) USING ERRCODE = 'no_data_found';
  END IF;
  RETURN row;
END $$;

CREATE FUNCTION tessera.check_grant_shape(name text, repo text, valid_for interval)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL OR name !~ '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$' THEN
    RAISE EXCEPTION 'bad token name %: 1 to 64 of A-Z a-z 0-9 _ . -, not starting with . or -',
      quote_nullable(name) USING ERRCODE = 'check_violation';
  END IF;
  IF repo IS NOT NULL AND (octet_length(repo) > 255
      OR repo !~ '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){0,3}$'
      OR repo ~ '(^|/)(config|data|keys|locks|snapshots|index)(/|$)') THEN
    RAISE EXCEPTION 'bad repository path %', quote_literal(repo)
      USING ERRCODE = 'check_violation',
            HINT = 'one to four segments of A-Z a-z 0-9 _ . -, none named config, data, keys, '
                   'locks, snapshots or index';
  END IF;
  IF valid_for IS NULL OR valid_for <= interval '0' OR valid_for > interval '10 years' THEN
    RAISE EXCEPTION 'bad lifetime %: more than 0 and at most 10 years', quote_nullable(valid_for)
      USING ERRCODE = 'check_violation';
  END IF;
END $$;

-- Makes a grant and returns its jti (`tessera-admin token mint --user A --name N` prints its
-- token). No rights unless given; 90 days unless said otherwise. An unrevoked grant of the same
-- name that has expired is marked revoked first, so its name is free again.
CREATE FUNCTION tessera.grant_token(account text, name text, read boolean DEFAULT false,
                                    write boolean DEFAULT false, delete boolean DEFAULT false,
                                    repo text DEFAULT NULL, valid_for interval DEFAULT '90 days')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  owner accounts := tessera.account_row(account);
  made text;
BEGIN
  PERFORM tessera.check_grant_shape(name, repo, valid_for);
  UPDATE api_tokens t SET revoked_at = t.expires_at
   WHERE t.userid = owner.userid AND t.name = grant_token.name AND t.revoked_at IS NULL
     AND t.expires_at <= now();
  BEGIN
    INSERT INTO api_tokens AS t (jti, userid, name, read, write, delete, repo, expires_at)
    VALUES (replace(gen_random_uuid()::text, '-', ''), owner.userid, grant_token.name,
            COALESCE(grant_token.read, false), COALESCE(grant_token.write, false),
            COALESCE(grant_token.delete, false), grant_token.repo, now() + valid_for)
    RETURNING t.jti INTO made;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION '% already has a live token named %', owner.userid, quote_literal(name)
      USING ERRCODE = 'unique_violation', HINT = 'revoke it first: tessera.revoke_token';
  END;
  RETURN made;
END $$;

-- Revokes the account's live grant of that name on every worker (within a second); returns its
-- jti. Revoking a name that has no live grant is an error.
CREATE FUNCTION tessera.revoke_token(account text, name text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  owner accounts := tessera.account_row(account);
  gone text;
BEGIN
  UPDATE api_tokens t SET revoked_at = now()
   WHERE t.userid = owner.userid AND t.name = revoke_token.name AND t.revoked_at IS NULL
  RETURNING t.jti INTO gone;
  IF gone IS NULL THEN
    RAISE EXCEPTION '% has no live token named %', owner.userid, quote_nullable(name)
      USING ERRCODE = 'no_data_found';
  END IF;
  RETURN gone;
END $$;

-- A grant a person makes for themselves (POST /api2/json/access/tokens): within the account's
-- ceiling or refused with insufficient_privilege (the API's 403), whose message says which bound.
-- The account row is locked, so two concurrent requests cannot both take the last place.
CREATE FUNCTION tessera.grant_own_token(account text, name text, read boolean, write boolean,
                                        delete boolean, repo text, valid_for interval)
RETURNS api_tokens LANGUAGE plpgsql AS $$
DECLARE
  owner accounts;
  live integer;
  made api_tokens;
BEGIN
  SELECT * INTO owner FROM accounts a WHERE a.userid = account FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown account %', quote_literal(account) USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM tessera.check_grant_shape(name, repo, valid_for);
  IF (read AND NOT owner.token_read) OR (write AND NOT owner.token_write)
     OR (delete AND NOT owner.token_delete) THEN
    RAISE EXCEPTION 'rights beyond the account''s ceiling' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF owner.token_repos IS NOT NULL AND (repo IS NULL OR NOT repo = ANY (owner.token_repos)) THEN
    RAISE EXCEPTION 'repository beyond the account''s ceiling'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF valid_for > owner.token_max_lifetime THEN
    RAISE EXCEPTION 'lifetime beyond the account''s ceiling'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT count(*) INTO live FROM api_tokens t
   WHERE t.userid = owner.userid AND t.revoked_at IS NULL AND t.expires_at > now();
  IF live >= owner.token_max_count THEN
    RAISE EXCEPTION 'as many live tokens as the account may hold'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM tessera.grant_token(owner.userid, name, read, write, delete, repo, valid_for);
  SELECT * INTO made FROM api_tokens t
   WHERE t.userid = owner.userid AND t.name = grant_own_token.name AND t.revoked_at IS NULL;
  RETURN made;
END $$;

-- Accounts. The password hash comes from `tessera-admin hash-password` (Argon2id); the table's
-- constraints say what a userid may be.
CREATE FUNCTION tessera.add_account(account text, password_hash text,
                                    expires timestamptz DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (userid, password_hash, expires_at) VALUES (account, password_hash, expires);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'account % already exists', quote_literal(account)
    USING ERRCODE = 'unique_violation';
END $$;

-- Disabling ends every session of the account at once (0007) and stops its tokens.
CREATE FUNCTION tessera.disable_account(account text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tessera.account_row(account);
  UPDATE accounts SET enabled = false WHERE userid = account;
END $$;

CREATE FUNCTION tessera.enable_account(account text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tessera.account_row(account);
  UPDATE accounts SET enabled = true WHERE userid = account;
END $$;

-- NULL: never expires. A time in the past ends the account's sessions (0007).
CREATE FUNCTION tessera.set_account_expiry(account text, expires timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tessera.account_row(account);
  UPDATE accounts SET expires_at = expires WHERE userid = account;
END $$;

-- The ceiling of what the person may grant themselves; an argument not given stays as it is
-- (repos => NULL with any_repo => true lifts the repository bound).
CREATE FUNCTION tessera.set_token_ceiling(account text, read boolean DEFAULT NULL,
                                          write boolean DEFAULT NULL,
                                          delete boolean DEFAULT NULL, repos text[] DEFAULT NULL,
                                          any_repo boolean DEFAULT false,
                                          max_lifetime interval DEFAULT NULL,
                                          max_count integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  PERFORM tessera.account_row(account);
  FOREACH r IN ARRAY COALESCE(repos, '{}') LOOP
    PERFORM tessera.check_grant_shape('ceiling', r, interval '1 day');
  END LOOP;
  UPDATE accounts a SET
    token_read = COALESCE(set_token_ceiling.read, a.token_read),
    token_write = COALESCE(set_token_ceiling.write, a.token_write),
    token_delete = COALESCE(set_token_ceiling.delete, a.token_delete),
    token_repos = CASE WHEN any_repo THEN NULL ELSE COALESCE(repos, a.token_repos) END,
    token_max_lifetime = COALESCE(max_lifetime, a.token_max_lifetime),
    token_max_count = COALESCE(max_count, a.token_max_count)
   WHERE a.userid = account;
END $$;

-- Two holes in the self-service ceiling of 0008, found in review:
-- * A NULL among an account's token_repos made `repo = ANY (token_repos)` NULL for every
--   repository not listed, and the refusal `IF ... NOT (NULL)` never fired: the repository bound
--   was gone. The comparison is now NULL-proof, set_token_ceiling refuses a NULL element, and the
--   table refuses one however it is written.
-- * The count bound counted live grants only, so minting and revoking in a loop made rows
--   without end (every worker holds every unexpired grant). A person may now also make at most
--   token_max_per_day grants in any 24 hours (revoked or not); the admin's functions are not
--   bound by it.
ALTER TABLE accounts ADD CONSTRAINT accounts_token_repos_no_null
  CHECK (token_repos IS NULL OR array_position(token_repos, NULL) IS NULL);
ALTER TABLE accounts
  ADD COLUMN token_max_per_day integer NOT NULL DEFAULT 100 CHECK (token_max_per_day >= 0);

CREATE OR REPLACE FUNCTION tessera.grant_own_token(account text, name text, read boolean,
                                                   write boolean, delete boolean, repo text,
                                                   valid_for interval)
RETURNS api_tokens LANGUAGE plpgsql AS $$
DECLARE
  owner accounts;
  live integer;
  recent integer;
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
  IF owner.token_repos IS NOT NULL
     AND (repo IS NULL OR array_position(owner.token_repos, repo) IS NULL) THEN
    RAISE EXCEPTION 'repository beyond the account''s ceiling'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF valid_for > owner.token_max_lifetime THEN
    RAISE EXCEPTION 'lifetime beyond the account''s ceiling'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT count(*) FILTER (WHERE t.revoked_at IS NULL AND t.expires_at > now()),
         count(*) FILTER (WHERE t.created_at > now() - interval '1 day')
    INTO live, recent
    FROM api_tokens t WHERE t.userid = owner.userid;
  IF live >= owner.token_max_count THEN
    RAISE EXCEPTION 'as many live tokens as the account may hold'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF recent >= owner.token_max_per_day THEN
    RAISE EXCEPTION 'as many new tokens today as the account may make'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM tessera.grant_token(owner.userid, name, read, write, delete, repo, valid_for);
  SELECT * INTO made FROM api_tokens t
   WHERE t.userid = owner.userid AND t.name = grant_own_token.name AND t.revoked_at IS NULL;
  RETURN made;
END $$;

CREATE OR REPLACE FUNCTION tessera.set_token_ceiling(account text, read boolean DEFAULT NULL,
                                                     write boolean DEFAULT NULL,
                                                     delete boolean DEFAULT NULL,
                                                     repos text[] DEFAULT NULL,
                                                     any_repo boolean DEFAULT false,
                                                     max_lifetime interval DEFAULT NULL,
                                                     max_count integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  PERFORM tessera.account_row(account);
  IF array_position(repos, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'repos holds NULL: name each repository' USING ERRCODE = 'check_violation';
  END IF;
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

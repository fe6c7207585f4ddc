-- Repositories are counted and capped per account (issue 21), and the repository overview reads
-- the books instead of walking the storage.
--
-- A repository exists in the books when it has a repo_usage row: `POST /backup/<repo>/?create=true`
-- inserts it through tessera.claim_repo, which counts the account's rows under the account row's
-- lock, so workers creating repositories in parallel can never pass the cap together. The cap is
-- accounts.repo_max_count, NULL: the worker's `repo_max_count` setting (64 unless configured).
-- Creating a repository that has its row already is not a new one and is never refused.
--
-- repo_usage also keeps what GET /api2/json/repos shows besides bytes and objects: the number of
-- snapshots and when the newest was stored, maintained as `snapshots` objects are committed and
-- removed, and set from the storage by `tessera-admin usage recompute`.

ALTER TABLE accounts ADD COLUMN repo_max_count integer CHECK (repo_max_count >= 0);
COMMENT ON COLUMN accounts.repo_max_count IS
  'Most repositories the account may create; NULL: the workers'' repo_max_count setting. '
  'Set by SQL: SELECT tessera.set_repo_cap(''alice@pbs'', 10).';

ALTER TABLE repo_usage
  ADD COLUMN snapshots     bigint NOT NULL DEFAULT 0 CHECK (snapshots >= 0),
  ADD COLUMN last_snapshot timestamptz;
COMMENT ON COLUMN repo_usage.last_snapshot IS
  'When the newest snapshot was stored (one forgotten on its own keeps its time until a '
  'recompute); NULL: no snapshot.';

-- The repository `repo_path` for `account`: 'created' (its row is new), 'exists' (it had one) or
-- 'full' (the account holds its cap of repositories already; nothing changed), with the cap in
-- force; no row for an unknown account. One call from the worker: the account row's lock (FOR NO
-- KEY UPDATE, which the foreign keys' KEY SHARE locks of uploads do not wait for) serialises
-- parallel creations, and each statement below reads what the previous holder committed (a
-- function's statements each take a new snapshot under READ COMMITTED).
CREATE FUNCTION tessera.claim_repo(account bigint, repo_path text, default_max integer)
RETURNS TABLE (outcome text, repo_cap integer)
LANGUAGE plpgsql AS $$
DECLARE
  cap integer;
  held bigint;
BEGIN
  SELECT COALESCE(a.repo_max_count, default_max) INTO cap
    FROM accounts a WHERE a.id = account FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM repo_usage r WHERE r.account_id = account AND r.repo = repo_path) THEN
    RETURN QUERY SELECT 'exists'::text, cap;
    RETURN;
  END IF;
  SELECT count(*) INTO held FROM repo_usage r WHERE r.account_id = account;
  IF held >= cap THEN
    RETURN QUERY SELECT 'full'::text, cap;
    RETURN;
  END IF;
  INSERT INTO repo_usage (account_id, repo) VALUES (account, repo_path)
    ON CONFLICT (account_id, repo) DO NOTHING;
  RETURN QUERY SELECT 'created'::text, cap;
END $$;

-- What an admin calls: the account's repository cap (NULL: back to the workers' default).
-- Lowering it below what the account holds removes nothing; it only refuses new repositories.
CREATE FUNCTION tessera.set_repo_cap(account text, max_count integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tessera.account_row(account);
  IF max_count < 0 THEN
    RAISE EXCEPTION 'a repository cap is 0 or more, not %', max_count
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE accounts a SET repo_max_count = max_count WHERE a.userid = account;
END $$;

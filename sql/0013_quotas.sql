-- Per-account quotas (issue 13): what each account stores is tracked here as objects are written
-- and deleted, so every worker sharing this database (and the storage) sees the same figure and
-- an upload that would pass the account's quota is refused before any byte of it is stored.
--
-- account_usage.bytes is what the account's objects hold plus the uploads in flight: an upload
-- reserves its length first (one UPDATE, checked against the quota under the row's lock, so two
-- workers can never both take the last room), and gives it back if it fails. repo_usage holds
-- what each repository's committed objects hold (for the overview and for a recompute). Neither
-- table has a notification trigger: usage changes with every upload and no worker caches it.
-- `tessera-admin usage recompute` sets both from what the storage really holds (after an upgrade
-- from a version without this table, or after a worker died between storing and counting).

ALTER TABLE accounts ADD COLUMN quota_bytes bigint CHECK (quota_bytes >= 0);
COMMENT ON COLUMN accounts.quota_bytes IS
  'Most bytes the account''s repositories may hold; NULL: unlimited. '
  'Set by SQL: UPDATE accounts SET quota_bytes = 50 * 1024^3 WHERE userid = ''alice@pbs''.';

CREATE TABLE account_usage (
  account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  bytes      bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0)
);
COMMENT ON TABLE account_usage IS
  'Bytes stored by each account plus its uploads in flight; written by the workers.';

CREATE TABLE repo_usage (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  repo       text   NOT NULL CHECK (length(repo) BETWEEN 1 AND 1024),
  bytes      bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  objects    bigint NOT NULL DEFAULT 0 CHECK (objects >= 0),
  PRIMARY KEY (account_id, repo)
);
COMMENT ON TABLE repo_usage IS
  'Bytes and objects each repository''s committed objects hold; written by the workers.';

-- A removal in progress: the one request that claimed an object counts its removal, so parallel
-- DELETEs of one object (on S3, every one of them succeeds) lower the usage once. A claim a
-- worker died holding is taken over after 10 minutes.
CREATE TABLE usage_removals (
  account_id bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  object     text        NOT NULL CHECK (length(object) BETWEEN 1 AND 2048),
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, object)
);

-- What an admin looks at: every account's quota beside its usage.
CREATE VIEW tessera.quota_report AS
  SELECT a.userid, a.quota_bytes, COALESCE(u.bytes, 0) AS used_bytes,
         CASE WHEN a.quota_bytes > 0 THEN round(100.0 * COALESCE(u.bytes, 0) / a.quota_bytes, 1)
         END AS used_percent
    FROM accounts a LEFT JOIN account_usage u ON u.account_id = a.id;

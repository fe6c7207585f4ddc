-- A grant may name only a repository path the backup endpoints can serve (DESIGN.md, "Backup
-- API"): one to four segments of [A-Za-z0-9_-][A-Za-z0-9._-]{0,63}, at most 255 bytes, and no
-- segment named like what a repository holds (config, data, keys, locks, snapshots, index), so a
-- grant can never be scoped to a path that overlaps another repository's objects. The worker
-- applies the same grammar (lib/backup/repo_path.h) and lets a grant outside it reach nothing;
-- this constraint refuses such a grant when it is written. NOT VALID: rows written before this
-- migration are not checked (they already reach nothing).
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_repo_path CHECK (
  repo IS NULL OR (
    octet_length(repo) <= 255
    AND repo ~ '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){0,3}$'
    AND repo !~ '(^|/)(config|data|keys|locks|snapshots|index)(/|$)'
  )
) NOT VALID;

-- Bulk changes notify once per statement (issue 12, item 3). Workers no longer hold every account
-- and grant: each keeps a bounded cache of the ones in use, reads a missing one when it is asked
-- for, and forgets one when it is notified (lib/auth/session_cache.h). A notification therefore
-- only has to say which keys changed, and '*' ("forget everything") costs a worker little. The
-- row-level triggers of 0002, 0003 and 0004 sent one notification per row: a one-statement
-- insert of a million grants sent a million. These statement-level triggers read the rows a
-- statement changed from its transition tables: up to 64 rows, each key is notified as
-- before (old and new: a renamed account or a changed jti under both names, 0004; a deleted one
-- under its old name, an inserted one under its new name, which also makes every worker forget
-- that it found no row for it); more rows, '*' once. A statement that changed no row notifies
-- nothing. TRUNCATE keeps its '*' (0004). PostgreSQL sends a notification once per transaction
-- however often it is raised, so a transaction of many such statements still sends one '*'.
--
-- The triggers of 0007 (ending sessions when an account changes) are untouched; the revocations
-- they insert are notified by the revoked_tickets trigger below.

DROP TRIGGER accounts_notify ON accounts;
DROP TRIGGER api_tokens_notify ON api_tokens;
DROP TRIGGER revoked_tickets_notify ON revoked_tickets;
DROP FUNCTION tessera_notify_account();
DROP FUNCTION tessera_notify_token();
DROP FUNCTION tessera_notify_revocation();

-- TG_ARGV[0]: the channel; TG_ARGV[1]: the key column. The trigger names its transition tables
-- old_rows (UPDATE, DELETE) and new_rows (INSERT, UPDATE). Reading 65 rows at most tells "more
-- than 64" without reading a big statement's rows.
CREATE FUNCTION tessera_notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_keys text[] := '{}';
  new_keys text[] := '{}';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format('SELECT array(SELECT %I FROM old_rows LIMIT 65)', TG_ARGV[1]) INTO old_keys;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format('SELECT array(SELECT %I FROM new_rows LIMIT 65)', TG_ARGV[1]) INTO new_keys;
  END IF;
  IF cardinality(old_keys) > 64 OR cardinality(new_keys) > 64 THEN
    PERFORM pg_notify(TG_ARGV[0], '*');
  ELSE
    PERFORM pg_notify(TG_ARGV[0], k.key)
       FROM (SELECT DISTINCT unnest(old_keys || new_keys) AS key) k;
  END IF;
  RETURN NULL;
END $$;

-- A trigger with transition tables fires for one kind of statement only: three each.
CREATE TRIGGER accounts_notify_insert AFTER INSERT ON accounts
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_accounts', 'userid');
CREATE TRIGGER accounts_notify_update AFTER UPDATE ON accounts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_accounts', 'userid');
CREATE TRIGGER accounts_notify_delete AFTER DELETE ON accounts
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_accounts', 'userid');

CREATE TRIGGER api_tokens_notify_insert AFTER INSERT ON api_tokens
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_tokens', 'jti');
CREATE TRIGGER api_tokens_notify_update AFTER UPDATE ON api_tokens
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_tokens', 'jti');
CREATE TRIGGER api_tokens_notify_delete AFTER DELETE ON api_tokens
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_rows('tessera_tokens', 'jti');

-- A revocation carries what a worker needs ("<ticket hash> <expiry>", the expiry in words when it
-- is 'infinity' or '-infinity', as 0004 made it); more than 64 in one statement: '*', and every
-- worker loads the live revocations again.
CREATE FUNCTION tessera_notify_revocations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM new_rows LIMIT 65) n) > 64 THEN
    PERFORM pg_notify('tessera_revocations', '*');
  ELSE
    PERFORM pg_notify('tessera_revocations', r.ticket_hash || ' ' ||
      CASE WHEN r.expires_at = 'infinity' THEN 'infinity'
           WHEN r.expires_at = '-infinity' THEN '-infinity'
           ELSE floor(extract(epoch FROM r.expires_at))::bigint::text END)
       FROM new_rows r;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER revoked_tickets_notify AFTER INSERT ON revoked_tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_revocations();

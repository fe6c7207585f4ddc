-- tessera.set_token_ceiling sets the daily bound too (`max_per_day`): 0010 added the column
-- token_max_per_day but not the argument, so an admin had to UPDATE accounts by hand.
-- The function's arguments change, so the old one goes (CREATE OR REPLACE would add an overload
-- and make every call by name ambiguous).
DROP FUNCTION tessera.set_token_ceiling(text, boolean, boolean, boolean, text[], boolean,
                                        interval, integer);

CREATE FUNCTION tessera.set_token_ceiling(account text, read boolean DEFAULT NULL,
                                          write boolean DEFAULT NULL,
                                          delete boolean DEFAULT NULL,
                                          repos text[] DEFAULT NULL,
                                          any_repo boolean DEFAULT false,
                                          max_lifetime interval DEFAULT NULL,
                                          max_count integer DEFAULT NULL,
                                          max_per_day integer DEFAULT NULL) RETURNS void
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
    token_max_count = COALESCE(max_count, a.token_max_count),
    token_max_per_day = COALESCE(max_per_day, a.token_max_per_day)
   WHERE a.userid = account;
END $$;

-- A grant without a name of its own is named after its jti (0008), but the jti grammar (0003)
-- allows a leading '-' that the name grammar does not. 0008's constraint was NOT VALID, which
-- skips only the rows already there: PostgreSQL still checks every row an UPDATE writes. So an
-- older grant whose jti starts with '-' could no longer be revoked, narrowed or moved (every
-- UPDATE failed on api_tokens_name), and an INSERT of such a jti without a name, which 0003's
-- grammar allows, was refused. A grant named after its own jti is now always well named; names
-- chosen by an admin keep 0008's grammar (tessera.check_grant_shape checks it too). Every row
-- satisfies this already, so the constraint is validated.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_name;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_name
  CHECK (name = jti OR name ~ '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$');

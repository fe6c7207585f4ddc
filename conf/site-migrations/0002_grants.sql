-- Grants, by name (unique per account among grants not revoked). Hand the token out with
--   tessera-admin token mint --user alice@example --name laptop
-- and revoke in a later file: SELECT tessera.revoke_token('alice@example', 'laptop');
-- The laptop backs up but cannot delete (append-only); the restore token only reads.
SELECT tessera.grant_token('alice@example', 'laptop', read => true, write => true,
                           repo => 'alice/laptop', valid_for => '90 days');
SELECT tessera.grant_token('alice@example', 'restore', read => true, repo => 'alice/laptop',
                           valid_for => '1 year');

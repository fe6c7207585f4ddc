-- Accounts, in a site migration (see README.md here). The hash is `tessera-admin hash-password`
-- output (Argon2id); this one is the password "example", so replace it before use.
-- A person added here may log in and grant themselves tokens through the ticket API, within the
-- ceiling set below (tessera.set_token_ceiling; an argument left out stays as it was).
SELECT tessera.add_account(
  'alice@example',
  '$argon2id$v=19$m=65536,t=2,p=1$KDOSDNsMufebhsCDSTTLBw$ZG4HxdYu644qFULqDKPj6Ui2F+xoWgltU+nIX2K17jM',
  expires => NULL);
SELECT tessera.set_token_ceiling('alice@example', delete => false, repos => ARRAY['alice/laptop'],
                                 max_lifetime => '30 days', max_count => 5);

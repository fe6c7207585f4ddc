-- Accounts, in a site migration (see README.md here). The hash is `tessera-admin hash-password`
-- output (Argon2id). This one is the hash of a random password nobody kept: as shipped, nobody
-- can log in as alice@example (tokens granted to her still work); put your own hash here.
-- A person added here may log in and grant themselves tokens through the ticket API, within the
-- ceiling set below (tessera.set_token_ceiling; an argument left out stays as it was).
SELECT tessera.add_account(
  'alice@example',
  '$argon2id$v=19$m=65536,t=2,p=1$PFGAJ0hBCZdfE5piz0wcLQ$+rX+3EdL7QOcCXJmh2xNqYjjXvCvauMjRBsFGYznJOw',
  expires => NULL);
SELECT tessera.set_token_ceiling('alice@example', delete => false, repos => ARRAY['alice/laptop'],
                                 max_lifetime => '30 days', max_count => 5);

-- Accounts of people who log in with a password (DESIGN.md, "Ticket API").
--
-- userid is `name@realm`: the name has no whitespace, ':' '/' or control characters; the realm is
-- [A-Za-z0-9_][A-Za-z0-9._-]* with 2 to 32 characters; the whole is 3 to 64 characters. The
-- password hash is libsodium's crypto_pwhash_str output (Argon2id); create it with
-- `tessera-admin hash-password` when writing accounts in a site migration.
CREATE TABLE accounts (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  userid        text        NOT NULL UNIQUE
                CHECK (length(userid) BETWEEN 3 AND 64
                       AND userid ~ '^[^[:space:][:cntrl:]:/]+@[A-Za-z0-9_][A-Za-z0-9._-]{1,31}$'),
  password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  enabled       boolean     NOT NULL DEFAULT true,
  expires_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE accounts IS 'People who log in with a password; tickets are issued to them.';

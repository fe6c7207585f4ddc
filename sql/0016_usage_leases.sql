-- Usage that equals the storage (issue 22). Every upload's reservation is a row that names the
-- worker that made it and carries a lease: a worker renews the leases of its long uploads, and a
-- reservation whose lease ran out (its worker died) is settled by any other worker or by
-- `tessera-admin usage recompute`. Before the store commits an object the reservation is marked
-- `storing`: one that expires unmarked never became an object and is simply given back; one that
-- expires marked is settled by looking at the storage (stored: counted; not: given back).
--
-- Every statement that changes an account's usage first locks its account_usage row, so a
-- recompute (which holds that lock while it walks the storage) sees no change until it has set
-- the usage, and never undoes one made while it ran: the changes wait for it.
--
-- The statements of the worker that may be sent again after a lost answer are made idempotent
-- by these rows: a commit or release of a reservation id that is gone does nothing, and a
-- removal claim names the request that holds it.

CREATE TABLE usage_reservations (
  id          text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  repo        text        NOT NULL CHECK (length(repo) BETWEEN 1 AND 1024),
  object      text        NOT NULL CHECK (length(object) BETWEEN 1 AND 2048),
  bytes       bigint      NOT NULL CHECK (bytes >= 0),
  worker      text        NOT NULL CHECK (length(worker) BETWEEN 1 AND 256),
  storing     boolean     NOT NULL DEFAULT false,
  lease_until timestamptz NOT NULL
);
CREATE INDEX usage_reservations_account ON usage_reservations (account_id);
CREATE INDEX usage_reservations_lease ON usage_reservations (lease_until);
COMMENT ON TABLE usage_reservations IS
  'Uploads in flight: their bytes are in account_usage.bytes until committed or given back.';

-- A claim names its request and has a lease instead of the fixed 10 minutes.
ALTER TABLE usage_removals ADD COLUMN claimer text NOT NULL DEFAULT '';
ALTER TABLE usage_removals ADD COLUMN lease_until timestamptz NOT NULL
  DEFAULT now() + interval '1 minute';

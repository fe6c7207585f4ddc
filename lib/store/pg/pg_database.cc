#include "store/pg/pg_database.h"

#include <algorithm>
#include <optional>

#include "log/log.h"
#include "store/migrations.h"
#include "store/notification.h"
#include "store/pg/connection.h"
#include "store/pg/migrator.h"
#include "store/pg/records.h"
#include "store/pg/rows.h"
#include "store/sql_text.h"

namespace tessera::store::pg {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstRetry{50};

// The login_failures key of an (account, client network) pair. A userid holds no whitespace, so
// the space keeps the two parts apart.
std::string PairSubject(std::string_view account_key, std::string_view network) {
  return "pair:" + std::string(network) + " " + std::string(account_key);
}

// "ERROR:  text" as libpq words it -> "text".
std::string PrimaryMessage(std::string_view message) {
  if (auto colon = message.find(":  "); colon != std::string_view::npos && colon < 10) {
    message.remove_prefix(colon + 3);
  }
  return std::string(message);
}

// The columns OwnGrantFromRow reads, from api_tokens aliased t.
constexpr const char* kOwnGrantColumns =
    "t.jti, t.name, t.read, t.write, t.delete, t.repo, " TESSERA_EPOCH_SQL(
        "t.created_at") " AS created_at, " TESSERA_EPOCH_SQL("t.expires_at") " AS expires_at, "
        TESSERA_EPOCH_SQL("t.revoked_at") " AS revoked_at";

std::expected<OwnGrant, RowError> OwnGrantFromRow(const RowReader::Row& row) {
  OwnGrant g;
  RowFields f;
  f.Take(row.Text("jti"), g.jti);
  f.Take(row.Text("name"), g.name);
  f.Take(row.Bool("read"), g.read);
  f.Take(row.Bool("write"), g.write);
  f.Take(row.Bool("delete"), g.del);
  f.Take(row.OptionalText("repo"), g.repo);
  f.Take(row.Time("created_at"), g.created_at);
  f.Take(row.Time("expires_at"), g.expires_at);
  f.Take(row.OptionalTime("revoked_at"), g.revoked_at);
  if (f.error()) return std::unexpected(*f.error());
  return g;
}

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(PgOptions options) : options_(std::move(options)) {}

  std::expected<void, StoreError> Ping() override { return Run("SELECT 1", {}, Replay::kSafe); }

  std::expected<std::optional<AccountRecord>, StoreError> FindAccount(
      std::string_view userid) override {
    return FindRow<AccountRecord>(
        std::string("SELECT password_hash, id, ") + kStateColumns +
            " FROM accounts WHERE userid = $1",
        userid, "accounts",
        [&](const RowReader::Row& row) -> std::expected<AccountRecord, RowError> {
          AccountRecord rec;
          rec.userid = userid;
          RowFields f;
          f.Take(row.Text("password_hash"), rec.password_hash);
          f.Take(row.Int64("id"), rec.id);
          f.Take(StateFromRow(row), rec.state);
          if (f.error()) return std::unexpected(*f.error());
          return rec;
        });
  }

  std::expected<void, StoreError> ReplacePasswordHash(std::string_view userid,
                                                      std::string_view old_hash,
                                                      std::string_view new_hash) override {
    return Run("UPDATE accounts SET password_hash = $3 WHERE userid = $1 AND password_hash = $2",
               {std::string(userid), std::string(old_hash), std::string(new_hash)},
               Replay::kSafe);  // conditional on the old hash: a second run changes nothing
  }

  std::expected<std::optional<std::int64_t>, StoreError> ChangePassword(
      std::string_view userid, std::string_view old_hash, std::string_view new_hash) override {
    // Past every ticket stamped so far (Issue() stamps at most at the clock), and never back.
    auto result = Query(
        "UPDATE accounts SET password_hash = $3, session_epoch = "
        "  GREATEST(session_epoch + 1, floor(extract(epoch FROM clock_timestamp()))::bigint + 1) "
        "WHERE userid = $1 AND password_hash = $2 RETURNING session_epoch",
        {std::string(userid), std::string(old_hash), std::string(new_hash)}, Replay::kNever);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() == 0) return std::optional<std::int64_t>{};
    auto epoch = rows.row(0).Int64("session_epoch");
    if (!epoch) return std::unexpected(StoreError::kInvalid);
    return std::optional<std::int64_t>(*epoch);
  }

  std::expected<std::vector<OwnGrant>, StoreError> ListOwnGrants(std::string_view userid,
                                                                 std::size_t limit) override {
    auto result = Query(std::string("SELECT ") + kOwnGrantColumns +
                            " FROM api_tokens t WHERE t.userid = $1 "
                            "ORDER BY t.created_at DESC, t.name LIMIT $2",
                        {std::string(userid), std::to_string(limit)}, Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    std::vector<OwnGrant> grants;
    RowReader rows(result->get());
    for (int i = 0; i < rows.size(); ++i) {
      auto grant = OwnGrantFromRow(rows.row(i));
      if (!grant && grant.error() == RowError::kMissingColumn) {
        return std::unexpected(StoreError::kInvalid);
      }
      if (!grant) {
        log::Error("api_tokens row of " + LogSafePrefix(userid) +
                   " not listed: " + std::string(Describe(grant.error())));
        continue;
      }
      grants.push_back(std::move(*grant));
    }
    return grants;
  }

  std::expected<OwnGrant, GrantRefusal> GrantOwn(std::string_view userid,
                                                 const GrantAsk& ask) override {
    auto b = [](bool v) { return std::optional<std::string>(v ? "true" : "false"); };
    auto result =
        Query(std::string("SELECT ") + kOwnGrantColumns +
                  " FROM tessera.grant_own_token($1, $2, $3, $4, $5, $6, "
                  "  COALESCE(NULLIF(make_interval(secs => $7), interval '0'), "
                  "           (SELECT token_max_lifetime FROM accounts WHERE userid = $1))) t",
              {std::string(userid), ask.name, b(ask.read), b(ask.write), b(ask.del), ask.repo,
               std::to_string(ask.valid_for)},
              Replay::kNever);
    if (!result) {
      StoreError e = result.error();
      bool told =
          e == StoreError::kRefused || e == StoreError::kConflict || e == StoreError::kInvalid;
      return std::unexpected(GrantRefusal{e, told ? last_error_ : std::string()});
    }
    RowReader rows(result->get());
    auto grant = rows.size() == 1
                     ? OwnGrantFromRow(rows.row(0))
                     : std::expected<OwnGrant, RowError>(std::unexpected(RowError::kNull));
    if (!grant) return std::unexpected(GrantRefusal{StoreError::kInvalid, {}});
    return std::move(*grant);
  }

  std::expected<std::optional<std::string>, StoreError> RevokeOwn(std::string_view userid,
                                                                  std::string_view name) override {
    auto result = Query(
        "UPDATE api_tokens SET revoked_at = now() "
        "WHERE userid = $1 AND name = $2 AND revoked_at IS NULL RETURNING jti",
        {std::string(userid), std::string(name)}, Replay::kNever);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() == 0) return std::optional<std::string>{};
    auto jti = rows.row(0).Text("jti");
    if (!jti) return std::unexpected(StoreError::kInvalid);
    return std::optional<std::string>(std::move(*jti));
  }

  // Every statement below that changes an account's usage locks its account_usage row first
  // (`lock`: an uncorrelated subquery, evaluated before the statement touches any other row), so
  // that `usage recompute`, which holds that lock while it walks the storage, sees no change
  // until it has set the usage (sql/0016). Those the connection may send again after a lost
  // answer (Replay::kSafe) do nothing the second time: they act on a row the first one removed.
  static constexpr const char* kLockAccount =
      "lock AS (SELECT 1 FROM account_usage WHERE account_id = $1 FOR UPDATE) ";

  std::expected<bool, StoreError> ReserveUsage(const ReservationRow& row,
                                               std::uint64_t grace) override {
    // One statement: the row's lock serialises parallel reservations, and PostgreSQL re-checks
    // the WHERE of the conflicting update against the row as the previous one left it, so the
    // last room goes to one upload only. A deleted account reserves nothing. Sent once: a
    // reservation whose answer was lost is given back when its lease runs out.
    auto result = Query(
        "WITH u AS ("
        "INSERT INTO account_usage AS u (account_id, bytes) "
        "  SELECT a.id, $2::bigint FROM accounts a "
        "   WHERE a.id = $1 AND (a.quota_bytes IS NULL OR $2::numeric <= a.quota_bytes + "
        "$3::numeric) "
        "ON CONFLICT (account_id) DO UPDATE SET bytes = u.bytes + excluded.bytes "
        "  WHERE u.bytes + excluded.bytes <= COALESCE((SELECT a.quota_bytes + $3::numeric "
        "                                              FROM accounts a "
        "                                              WHERE a.id = u.account_id), "
        "                                             u.bytes + excluded.bytes) "
        "RETURNING 1), "
        "r AS (INSERT INTO usage_reservations "
        "        (id, account_id, repo, object, bytes, worker, lease_until) "
        "      SELECT $4, $1, $5, $6, $2, $7, to_timestamp($8) FROM u RETURNING 1) "
        "SELECT count(*) AS reserved FROM r",
        {std::to_string(row.account), std::to_string(row.bytes), std::to_string(grace), row.id,
         row.repo, row.object, row.worker, std::to_string(row.lease_until)},
        Replay::kNever);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    auto reserved =
        rows.size() == 1 ? rows.row(0).Int64("reserved") : std::expected<std::int64_t, RowError>(0);
    if (!reserved) return std::unexpected(StoreError::kInvalid);
    return *reserved == 1;
  }

  std::expected<bool, StoreError> RenewUsage(std::string_view id, std::int64_t lease_until,
                                             bool storing) override {
    // Marking it storing takes the account's lock: no object is stored while a recompute walks.
    auto result = storing
                      ? Query(
                            "WITH lock AS (SELECT 1 FROM account_usage a JOIN usage_reservations r "
                            "  ON r.account_id = a.account_id WHERE r.id = $1 FOR UPDATE OF a) "
                            "UPDATE usage_reservations SET lease_until = to_timestamp($2), "
                            "  storing = true "
                            "WHERE id = $1 AND (SELECT count(*) FROM lock) >= 0 RETURNING 1",
                            {std::string(id), std::to_string(lease_until)}, Replay::kSafe)
                      : Query(
                            "UPDATE usage_reservations SET lease_until = to_timestamp($2) "
                            "WHERE id = $1 RETURNING 1",
                            {std::string(id), std::to_string(lease_until)}, Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    return PQntuples(result->get()) == 1;
  }

  std::expected<void, StoreError> ReleaseUsage(std::int64_t account, std::string_view id) override {
    return Run(std::string("WITH ") + kLockAccount +
                   ", r AS (DELETE FROM usage_reservations "
                   "        WHERE id = $2 AND account_id = $1 AND (SELECT count(*) FROM lock) >= 0 "
                   "        RETURNING bytes) "
                   "UPDATE account_usage u SET bytes = greatest(0, u.bytes - r.bytes) "
                   "FROM r WHERE u.account_id = $1",
               {std::to_string(account), std::string(id)}, Replay::kSafe);
  }

  std::expected<void, StoreError> CommitUsage(std::int64_t account, std::string_view id,
                                              std::string_view repo, std::uint64_t bytes) override {
    // The reservation's bytes are in the account's usage already; they become the repository's.
    // This upload made the object (the store never replaces one), so any other reservation of it
    // marked storing did not and never will: one whose worker died between its mark and the
    // store's commit (restic's retry made the object here). Unmarked, it is given back when its
    // lease runs out instead of being counted again for the object it finds stored.
    return Run(std::string("WITH ") + kLockAccount +
                   ", g AS (DELETE FROM usage_reservations "
                   "        WHERE id = $2 AND account_id = $1 AND (SELECT count(*) FROM lock) >= 0 "
                   "        RETURNING repo, object), "
                   "o AS (UPDATE usage_reservations r SET storing = false FROM g "
                   "      WHERE r.account_id = $1 AND r.repo = g.repo AND r.object = g.object "
                   "        AND r.storing AND r.id <> $2) "
                   "INSERT INTO repo_usage AS r (account_id, repo, bytes, objects) "
                   "SELECT $1, $3, $4, 1 FROM g "
                   "ON CONFLICT (account_id, repo) DO UPDATE SET bytes = r.bytes + excluded.bytes, "
                   "                                             objects = r.objects + 1",
               {std::to_string(account), std::string(id), std::string(repo), std::to_string(bytes)},
               Replay::kSafe);
  }

  std::expected<std::vector<ReservationRow>, StoreError> ExpireUsage(std::int64_t now,
                                                                     std::size_t limit) override {
    // Accounts a recompute holds are skipped (SKIP LOCKED), and their locks are taken before any
    // reservation row, in the order every other statement takes them.
    auto result = Query(
        "WITH lock AS (SELECT account_id FROM account_usage WHERE account_id IN "
        "  (SELECT account_id FROM usage_reservations "
        "    WHERE lease_until < to_timestamp($1) AND NOT storing) "
        "  ORDER BY account_id FOR UPDATE SKIP LOCKED), "
        "gone AS (DELETE FROM usage_reservations "
        "  WHERE lease_until < to_timestamp($1) AND NOT storing "
        "    AND account_id IN (SELECT account_id FROM lock) RETURNING account_id, bytes), "
        "sums AS (SELECT account_id, sum(bytes) AS b FROM gone GROUP BY account_id), "
        "upd AS (UPDATE account_usage u SET bytes = greatest(0, u.bytes - s.b) "
        "  FROM sums s WHERE u.account_id = s.account_id RETURNING 1) "
        "SELECT id, account_id, repo, object, bytes, worker, " TESSERA_EPOCH_SQL("lease_until")
        " AS lease_until, (SELECT count(*) FROM upd) AS settled FROM usage_reservations "
        "WHERE lease_until < to_timestamp($1) AND storing ORDER BY lease_until LIMIT $2",
        {std::to_string(now), std::to_string(limit)}, Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    std::vector<ReservationRow> rows;
    RowReader reader(result->get());
    for (int i = 0; i < reader.size(); ++i) {
      RowReader::Row r = reader.row(i);
      ReservationRow row;
      std::int64_t bytes = -1;
      RowFields f;
      f.Take(r.Text("id"), row.id);
      f.Take(r.Int64("account_id"), row.account);
      f.Take(r.Text("repo"), row.repo);
      f.Take(r.Text("object"), row.object);
      f.Take(r.Int64("bytes"), bytes);
      f.Take(r.Text("worker"), row.worker);
      f.Take(r.Time("lease_until"), row.lease_until);
      if (f.error() || bytes < 0) return std::unexpected(StoreError::kInvalid);
      row.bytes = static_cast<std::uint64_t>(bytes);
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::expected<bool, StoreError> SettleExpired(const ReservationRow& row, std::int64_t now,
                                                bool stored) override {
    // Counted, the object's other expired marked reservations (their workers died between the
    // mark and the commit too; only one upload made the object) are unmarked: given back, not
    // counted again.
    auto result = Query(
        std::string("WITH ") + kLockAccount +
            ", g AS (DELETE FROM usage_reservations "
            "        WHERE id = $2 AND account_id = $1 AND storing "
            "          AND lease_until < to_timestamp($3) "
            "          AND (SELECT count(*) FROM lock) >= 0 RETURNING repo, object, bytes), "
            "o AS (UPDATE usage_reservations r SET storing = false FROM g "
            "      WHERE $4::boolean AND r.account_id = $1 AND r.repo = g.repo "
            "        AND r.object = g.object AND r.storing AND r.id <> $2 "
            "        AND r.lease_until < to_timestamp($3)), "
            "a AS (UPDATE account_usage u SET bytes = greatest(0, u.bytes - g.bytes) "
            "      FROM g WHERE NOT $4::boolean AND u.account_id = $1), "
            "i AS (INSERT INTO repo_usage AS r (account_id, repo, bytes, objects) "
            "      SELECT $1, g.repo, g.bytes, 1 FROM g WHERE $4::boolean "
            "      ON CONFLICT (account_id, repo) DO UPDATE SET bytes = r.bytes + excluded.bytes, "
            "                                                   objects = r.objects + 1) "
            "SELECT count(*) FROM g",
        {std::to_string(row.account), row.id, std::to_string(now), stored ? "true" : "false"},
        Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    return std::string_view(PQgetvalue(result->get(), 0, 0)) == "1";
  }

  std::expected<bool, StoreError> ClaimRemoval(std::int64_t account, std::string_view object,
                                               std::string_view claimer, std::int64_t now,
                                               std::int64_t lease_until) override {
    // Its own claim is taken again (a statement sent again after a lost answer says true).
    auto result = Query(std::string("WITH ") + kLockAccount +
                            "INSERT INTO usage_removals AS c (account_id, object, claimer, "
                            "                                 lease_until) "
                            "SELECT $1, $2, $3, to_timestamp($5) "
                            "WHERE (SELECT count(*) FROM lock) >= 0 "
                            "ON CONFLICT (account_id, object) DO UPDATE "
                            "  SET claimer = excluded.claimer, lease_until = excluded.lease_until "
                            "  WHERE c.claimer = excluded.claimer "
                            "     OR c.lease_until < to_timestamp($4) "
                            "RETURNING 1",
                        {std::to_string(account), std::string(object), std::string(claimer),
                         std::to_string(now), std::to_string(lease_until)},
                        Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    return PQntuples(result->get()) == 1;
  }

  std::expected<void, StoreError> DropRemoval(std::int64_t account, std::string_view object,
                                              std::string_view claimer) override {
    return Run("DELETE FROM usage_removals WHERE account_id = $1 AND object = $2 AND claimer = $3",
               {std::to_string(account), std::string(object), std::string(claimer)}, Replay::kSafe);
  }

  std::expected<void, StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                              std::string_view object, std::string_view claimer,
                                              std::uint64_t bytes) override {
    // One statement: the claim goes, and only if it was there is the size taken off (so a
    // statement the connection sends again after it committed counts nothing twice). An object
    // stored under a reservation not yet counted (its worker died after the store's commit) was
    // never in the repository's figure: the reservation ends with it instead.
    return Run(std::string("WITH ") + kLockAccount +
                   ", c AS (DELETE FROM usage_removals "
                   "        WHERE account_id = $1 AND object = $4 AND claimer = $5 "
                   "          AND (SELECT count(*) FROM lock) >= 0 RETURNING 1), "
                   "p AS (DELETE FROM usage_reservations "
                   "      WHERE account_id = $1 AND storing AND repo || '/' || object = $4 "
                   "        AND EXISTS (SELECT 1 FROM c) RETURNING 1), "
                   "a AS (UPDATE account_usage SET bytes = greatest(0, bytes - $3::bigint) "
                   "      WHERE account_id = $1 AND EXISTS (SELECT 1 FROM c)) "
                   "UPDATE repo_usage SET bytes = greatest(0, bytes - $3::bigint), "
                   "                      objects = greatest(0, objects - 1) "
                   "WHERE account_id = $1 AND repo = $2 AND EXISTS (SELECT 1 FROM c) "
                   "  AND NOT EXISTS (SELECT 1 FROM p)",
               {std::to_string(account), std::string(repo), std::to_string(bytes),
                std::string(object), std::string(claimer)},
               Replay::kSafe);
  }

  std::expected<ThrottleVerdict, StoreError> ReserveAttempt(std::string_view account_key,
                                                            std::string_view network,
                                                            const ThrottlePolicy& p) override {
    // One statement, so parallel attempts are serialised by the rows' locks (always the
    // network's row first, then the pair's: no lock-order deadlock): each attempt counts before
    // anything is hashed, and only those within both limits may go ahead. The pair row is
    // touched only while the network is within its limit, so a spray of user names from one
    // network adds at most max_addr_failures pair rows per window. A window starts at the first
    // attempt; an attempt after it has passed starts a new one.
    static constexpr const char* kCount =
        "  ON CONFLICT (subject) DO UPDATE SET "
        "    failures = CASE WHEN f.window_start <= now() - make_interval(secs => $5) THEN 1 "
        "                    ELSE f.failures + 1 END, "
        "    window_start = CASE WHEN f.window_start <= now() - make_interval(secs => $5) THEN "
        "now() "
        "                        ELSE f.window_start END "
        "  RETURNING failures, window_start";
    // A pair row is made only while the account has fewer than max_account_networks of them
    // in live windows (sql/0015); past that, a network without one is held to the pair limit
    // on its own network row (`lone`). Parallel attempts may pass that bound by a few.
    auto result =
        Query(std::string("WITH addr AS ("
                          "  INSERT INTO login_failures AS f (subject, failures, window_start) "
                          "VALUES ($2, 1, now()) ") +
                  kCount +
                  "), room AS ("
                  "  SELECT EXISTS (SELECT 1 FROM login_failures WHERE subject = $1) "
                  "      OR (SELECT count(*) FROM login_failures WHERE account_key = $6 "
                  "            AND window_start > now() - make_interval(secs => $5)) < $7::int "
                  "         AS ok"
                  "), pair AS ("
                  "  INSERT INTO login_failures AS f (subject, failures, window_start, "
                  "account_key) "
                  "  SELECT $1, 1, now(), $6 FROM addr, room "
                  "   WHERE addr.failures <= $4::int AND room.ok " +
                  kCount +
                  "), lone AS (SELECT failures, window_start FROM addr, room WHERE NOT room.ok), "
                  "hit AS (SELECT failures, window_start, $4::int AS lim FROM addr "
                  "        UNION ALL SELECT failures, window_start, $3::int FROM pair "
                  "        UNION ALL SELECT failures, window_start, $3::int FROM lone) "
                  "SELECT COALESCE(max(greatest(1, ceil(extract(epoch FROM "
                  "                  window_start + make_interval(secs => $5) - now())))) "
                  "         FILTER (WHERE failures > lim), 0)::bigint AS retry_after, "
                  "       COALESCE(bool_or(failures = lim + 1), false) AS first_refusal "
                  "FROM hit",
              {PairSubject(account_key, network), "addr:" + std::string(network),
               std::to_string(p.max_user_failures), std::to_string(p.max_addr_failures),
               std::to_string(p.window_seconds), std::string(account_key),
               std::to_string(p.max_account_networks)},
              Replay::kNever);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() != 1) return std::unexpected(StoreError::kInvalid);
    ThrottleVerdict verdict;
    RowFields f;
    f.Take(rows.row(0).Int64("retry_after"), verdict.retry_after);
    f.Take(rows.row(0).Bool("first_refusal"), verdict.first_refusal);
    if (f.error()) return std::unexpected(StoreError::kInvalid);
    return verdict;
  }

  std::expected<void, StoreError> ReleaseAttempt(std::string_view account_key,
                                                 std::string_view network) override {
    // Two statements, each touching one row: no lock order to get wrong.
    if (auto forgiven = Run("DELETE FROM login_failures WHERE subject = $1",
                            {PairSubject(account_key, network)}, Replay::kSafe);
        !forgiven) {
      return forgiven;
    }
    return Run(
        "UPDATE login_failures SET failures = failures - 1 WHERE subject = $1 AND failures > 0",
        {"addr:" + std::string(network)}, Replay::kNever);
  }

  std::expected<void, StoreError> Audit(std::string_view event, std::string_view userid,
                                        std::string_view client, std::string_view reason) override {
    auto opt = [](std::string_view v) {
      return v.empty() ? std::nullopt : std::optional<std::string>(std::string(v));
    };
    return Run("INSERT INTO auth_audit (event, userid, client, reason) VALUES ($1, $2, $3, $4)",
               {std::string(event), opt(userid), opt(client), opt(reason)}, Replay::kNever);
  }

  std::expected<std::optional<AccountState>, StoreError> FindAccountState(
      std::string_view userid) override {
    return FindRow<AccountState>(
        std::string("SELECT ") + kStateColumns + " FROM accounts WHERE userid = $1", userid,
        "accounts", StateFromRow);
  }

  std::expected<std::optional<GrantRecord>, StoreError> FindGrant(std::string_view jti) override {
    return FindRow<GrantRecord>(
        std::string("SELECT ") + kGrantColumns + " FROM " + kGrantFrom + " WHERE t.jti = $1", jti,
        "api_tokens", GrantFromRow);
  }

  std::expected<bool, StoreError> StartSession(std::string_view userid, const SessionTicket& first,
                                               int max_sessions) override {
    // Ends the account's sessions beyond the newest `max_sessions` (sql/0015).
    auto result =
        Query("SELECT tessera_start_session($1, $2, to_timestamp($3), $4::int) AS session",
              {std::string(userid), first.revocation_id, std::to_string(first.expires_at),
               std::to_string(max_sessions)},
              Replay::kNever);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() != 1) return false;
    auto session = rows.row(0).OptionalInt64("session");  // NULL: no such account
    if (!session) return std::unexpected(StoreError::kInvalid);
    return session->has_value();
  }

  std::expected<bool, StoreError> ContinueSession(std::string_view presented,
                                                  std::string_view userid,
                                                  const SessionTicket& next) override {
    // The UPDATE locks the session row and re-checks `ended_at` after any wait, so a logout
    // committed meanwhile is seen (see tessera_end_session in sql/0005_sessions.sql).
    auto result = Query(
        "WITH s AS ("
        "  UPDATE sessions s SET renewed_at = now() "
        "  FROM session_tickets t, accounts a "
        "  WHERE t.ticket_hash = $1 AND s.id = t.session_id AND a.id = s.account_id "
        "    AND a.userid = $2 AND s.ended_at IS NULL "
        "  RETURNING s.id) "
        "INSERT INTO session_tickets (ticket_hash, session_id, expires_at) "
        "SELECT $3, id, to_timestamp($4) FROM s RETURNING session_id",
        {std::string(presented), std::string(userid), next.revocation_id,
         std::to_string(next.expires_at)},
        Replay::kNever);
    if (!result) return std::unexpected(result.error());
    return PQntuples(result->get()) == 1;
  }

  std::expected<std::vector<SessionTicket>, StoreError> EndSession(
      const SessionTicket& presented, std::string_view userid) override {
    auto result = Query(
        "SELECT revoked_hash, extract(epoch FROM revoked_expires_at)::bigint AS expires_at "
        "FROM tessera_end_session($1, $2, to_timestamp($3))",
        {presented.revocation_id, std::string(userid), std::to_string(presented.expires_at)},
        Replay::kNever);
    if (!result) return std::unexpected(result.error());
    std::vector<SessionTicket> revoked;
    RowReader rows(result->get());
    for (int i = 0; i < rows.size(); ++i) {
      SessionTicket ticket;
      RowFields f;
      f.Take(rows.row(i).Text("revoked_hash"), ticket.revocation_id);
      f.Take(rows.row(i).Int64("expires_at"), ticket.expires_at);
      if (f.error()) return std::unexpected(StoreError::kInvalid);
      revoked.push_back(std::move(ticket));
    }
    return revoked;
  }

  std::expected<std::int64_t, StoreError> Prune(const RetentionPolicy& p) override {
    // One bounded DELETE per table; each runs on its own, so a failure leaves the others done.
    // SKIP LOCKED: a row a login holds right now is left for the next pass, so pruning never
    // waits on a login, and never deadlocks with one (ReserveAttempt locks two rows).
    const std::string batch = std::to_string(p.batch);
    const struct {
      const char* sql;
      std::int64_t seconds;
    } passes[] = {
        {"DELETE FROM auth_audit WHERE id IN (SELECT id FROM auth_audit "
         "WHERE at < now() - make_interval(secs => $1) ORDER BY at LIMIT $2 FOR UPDATE SKIP "
         "LOCKED)",
         p.audit_seconds},
        {"DELETE FROM login_failures WHERE subject IN (SELECT subject FROM login_failures "
         "WHERE window_start < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
         p.failure_window_seconds},
        // Cascades to the session's tickets.
        {"DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
         "WHERE renewed_at < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
         p.session_seconds},
        // Expired tickets of live sessions: they can neither be used nor renewed.
        {"DELETE FROM session_tickets WHERE ticket_hash IN (SELECT ticket_hash FROM "
         "session_tickets "
         "WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
         0},
        {"DELETE FROM revoked_tickets WHERE ticket_hash IN (SELECT ticket_hash FROM "
         "revoked_tickets "
         "WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
         0},
    };
    std::int64_t deleted = 0;
    for (const auto& pass : passes) {
      // Deleting what is old: a second run finds less.
      auto result = Query(pass.sql, {std::to_string(pass.seconds), batch}, Replay::kSafe);
      if (!result) return std::unexpected(result.error());
      deleted += ParseSqlInt64(PQcmdTuples(result->get())).value_or(0);
    }
    return deleted;
  }

  // The books of repositories (store/repo_store.h, sql/0014).

  std::expected<RepoClaim, StoreError> ClaimRepo(std::int64_t account, std::string_view repo,
                                                 std::uint64_t default_cap) override {
    auto result = Query("SELECT outcome, repo_cap FROM tessera.claim_repo($1, $2, $3)",
                        {std::to_string(account), std::string(repo),
                         std::to_string(std::min<std::uint64_t>(default_cap, kMaxSqlInt))},
                        Replay::kSafe);  // a second run finds the repository: "exists"
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    RepoClaim claim;
    if (rows.size() == 0) return claim;  // no such account
    auto cap = rows.row(0).Int64("repo_cap");
    auto outcome = rows.row(0).Text("outcome");
    if (!cap || *cap < 0 || !outcome) return std::unexpected(StoreError::kInvalid);
    claim.cap = static_cast<std::uint64_t>(*cap);
    if (*outcome == "created") {
      claim.outcome = RepoClaimOutcome::kCreated;
    } else if (*outcome == "exists") {
      claim.outcome = RepoClaimOutcome::kExists;
    } else if (*outcome == "full") {
      claim.outcome = RepoClaimOutcome::kFull;
    } else {
      return std::unexpected(StoreError::kInvalid);
    }
    return claim;
  }

  std::expected<void, StoreError> DropEmptyRepo(std::int64_t account,
                                                std::string_view repo) override {
    return Run(
        "DELETE FROM repo_usage WHERE account_id = $1 AND repo = $2 AND objects = 0 "
        "AND bytes = 0",
        {std::to_string(account), std::string(repo)}, Replay::kSafe);
  }

  std::expected<void, StoreError> NoteRepo(std::int64_t account, std::string_view repo) override {
    return Run(
        "INSERT INTO repo_usage (account_id, repo) SELECT id, $2 FROM accounts WHERE id = $1 "
        "ON CONFLICT (account_id, repo) DO NOTHING",
        {std::to_string(account), std::string(repo)}, Replay::kSafe);
  }

  std::expected<void, StoreError> CountSnapshot(std::int64_t account, std::string_view repo,
                                                bool added) override {
    // The object's own commit made the row. A removal of the last snapshot leaves no time; one
    // of several keeps the newest's time, which a removal of the newest alone cannot know.
    return Run(added ? "UPDATE repo_usage SET snapshots = snapshots + 1, "
                       "  last_snapshot = greatest(last_snapshot, now()) "
                       "WHERE account_id = $1 AND repo = $2"
                     : "UPDATE repo_usage SET snapshots = greatest(0, snapshots - 1), "
                       "  last_snapshot = CASE WHEN snapshots <= 1 THEN NULL ELSE last_snapshot "
                       "END "
                       "WHERE account_id = $1 AND repo = $2",
               {std::to_string(account), std::string(repo)}, Replay::kNever);
  }

  std::expected<std::vector<RepoRow>, StoreError> ListRepos(std::int64_t account,
                                                            const std::optional<std::string>& only,
                                                            std::size_t limit) override {
    auto result = Query(
        "SELECT repo, bytes, objects, snapshots, "
        "       floor(extract(epoch FROM last_snapshot))::bigint AS last_snapshot "
        "FROM repo_usage WHERE account_id = $1 AND ($2::text IS NULL OR repo = $2) "
        "ORDER BY repo LIMIT $3",
        {std::to_string(account), only, std::to_string(limit)}, Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    RowReader reader(result->get());
    std::vector<RepoRow> rows;
    for (int i = 0; i < reader.size(); ++i) {
      RowReader::Row r = reader.row(i);
      RepoRow row;
      std::int64_t bytes = 0, objects = 0, snapshots = 0;
      RowFields f;
      f.Take(r.Text("repo"), row.repo);
      f.Take(r.Int64("bytes"), bytes);
      f.Take(r.Int64("objects"), objects);
      f.Take(r.Int64("snapshots"), snapshots);
      f.Take(r.OptionalInt64("last_snapshot"), row.last_snapshot);
      if (f.error()) return std::unexpected(StoreError::kInvalid);
      row.bytes = static_cast<std::uint64_t>(bytes);
      row.objects = static_cast<std::uint64_t>(objects);
      row.snapshots = static_cast<std::uint64_t>(snapshots);
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::expected<std::optional<AccountUse>, StoreError> ReadAccountUse(
      std::int64_t account, std::uint64_t default_cap) override {
    auto result = Query(
        "SELECT COALESCE((SELECT bytes FROM account_usage WHERE account_id = a.id), 0) AS bytes, "
        "       a.quota_bytes, "
        "       (SELECT count(*) FROM repo_usage WHERE account_id = a.id) AS repos, "
        "       COALESCE(a.repo_max_count, $2) AS repo_cap "
        "FROM accounts a WHERE a.id = $1",
        {std::to_string(account), std::to_string(std::min<std::uint64_t>(default_cap, kMaxSqlInt))},
        Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() == 0) return std::optional<AccountUse>{};
    RowReader::Row r = rows.row(0);
    std::int64_t bytes = 0, repos = 0, cap = 0;
    std::optional<std::int64_t> quota;
    RowFields f;
    f.Take(r.Int64("bytes"), bytes);
    f.Take(r.OptionalInt64("quota_bytes"), quota);
    f.Take(r.Int64("repos"), repos);
    f.Take(r.Int64("repo_cap"), cap);
    if (f.error()) return std::unexpected(StoreError::kInvalid);
    AccountUse use;
    use.bytes = static_cast<std::uint64_t>(bytes);
    use.repos = static_cast<std::uint64_t>(repos);
    use.repo_cap = static_cast<std::uint64_t>(cap);
    if (quota) use.quota_bytes = static_cast<std::uint64_t>(*quota);
    return std::optional<AccountUse>(use);
  }

 private:
  // The largest value of an SQL integer column (repo_max_count).
  static constexpr std::uint64_t kMaxSqlInt = 2147483647;

  // Whether a statement may be sent again after the connection broke while it ran (the server
  // may have run it, and the answer was lost): kSafe for reads and for writes that do nothing
  // the second time; kNever for the rest, which then fail with kUnavailable (at most once).
  enum class Replay { kNever, kSafe };

  // Runs `op` on a live connection. A connection the server closed while it was idle (a
  // restart) is replaced before anything is sent; a statement that provably never left (the
  // send failed) is sent again on a new connection at once, as is one that may be replayed.
  // Then it falls back to the backoff schedule.
  template <typename Op>
  auto WithConnection(Op op, Replay replay) -> std::expected<Result, StoreError> {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!Connect()) return std::unexpected(StoreError::kUnavailable);
      auto result = op(*conn_);
      if (result) return std::move(*result);
      if (result.error().kind != StoreError::kUnavailable || conn_->Healthy()) {
        // A rule in the schema saying no (a ceiling, a live name) answers a person's request:
        // they can ask again and again, so it is not worth a warning each time.
        StoreError kind = result.error().kind;
        bool answered = kind == StoreError::kConflict || kind == StoreError::kRefused ||
                        kind == StoreError::kNotFound;
        (answered ? log::Debug : log::Warning)("database: " + result.error().message);
        last_error_ = PrimaryMessage(result.error().message);
        return std::unexpected(result.error().kind);
      }
      log::Warning("database connection lost: " + result.error().message);
      conn_.reset();
      if (result.error().sent && replay == Replay::kNever) {
        log::Warning("database: a statement that may have run is not sent again");
        return std::unexpected(StoreError::kUnavailable);
      }
    }
    return std::unexpected(StoreError::kUnavailable);
  }

  bool Connect() {
    if (conn_ && conn_->Alive()) return true;
    conn_.reset();
    Clock::time_point now = Clock::now();
    if (now < next_attempt_) return false;
    auto opened = Connection::Open(options_.conninfo, options_.connect_timeout, "tessera-fcgi");
    if (opened && options_.check_schema) {
      auto applied = ReadApplied(*opened);
      auto ok = applied ? CheckSchema(SchemaManifest(), *applied)
                        : std::expected<void, std::string>(std::unexpected(applied.error()));
      if (!ok) {
        log::Error("database: " + ok.error());
        opened = std::unexpected(DbError{StoreError::kUnavailable, ok.error()});
      }
    }
    if (!opened) {
      if (delay_ == std::chrono::milliseconds{0}) {
        log::Warning("database unavailable: " + opened.error().message);
      }
      delay_ = delay_ == std::chrono::milliseconds{0} ? kFirstRetry
                                                      : std::min(delay_ * 2, options_.retry_max);
      next_attempt_ = Clock::now() + delay_;
      return false;
    }
    if (delay_ != std::chrono::milliseconds{0}) log::Info("database connection re-established");
    delay_ = std::chrono::milliseconds{0};
    conn_.emplace(std::move(*opened));
    return true;
  }

  // The row `sql` finds for `key` ($1), read by `read`; nullopt when there is none, or when it
  // cannot be read: one odd row of `table` denies only itself, as if it were not there (logged).
  // A result without one of the columns `read` names fails with kInvalid (logged by the reader).
  template <typename T, typename Read>
  std::expected<std::optional<T>, StoreError> FindRow(const std::string& sql, std::string_view key,
                                                      std::string_view table, Read read) {
    auto result = Query(sql, {std::string(key)}, Replay::kSafe);
    if (!result) return std::unexpected(result.error());
    RowReader rows(result->get());
    if (rows.size() == 0) return std::optional<T>{};
    auto row = read(rows.row(0));
    if (!row && row.error() == RowError::kMissingColumn) {
      return std::unexpected(StoreError::kInvalid);
    }
    if (!row) {
      log::Error(std::string(table) + " row " + LogSafePrefix(key) +
                 " refused: " + std::string(Describe(row.error())));
      return std::optional<T>{};
    }
    return std::optional<T>(std::move(*row));
  }

  std::expected<Result, StoreError> Query(std::string_view sql,
                                          const std::vector<std::optional<std::string>>& params,
                                          Replay replay) {
    return WithConnection([&](Connection& c) { return c.Exec(sql, params); }, replay);
  }
  std::expected<void, StoreError> Run(std::string_view sql,
                                      const std::vector<std::optional<std::string>>& params,
                                      Replay replay) {
    auto result = Query(sql, params, replay);
    if (!result) return std::unexpected(result.error());
    return {};
  }

  PgOptions options_;
  std::optional<Connection> conn_;
  std::string last_error_;  // PostgreSQL's message of the last refused statement
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds delay_{0};
};

}  // namespace

std::unique_ptr<Database> OpenPgDatabase(PgOptions options) {
  return std::make_unique<PgDatabase>(std::move(options));
}

std::expected<void, std::pair<StoreError, std::string>> VerifySchema(const PgOptions& options) {
  auto conn = Connection::Open(options.conninfo, options.connect_timeout, "tessera-fcgi");
  if (!conn) return std::unexpected(std::pair{StoreError::kUnavailable, conn.error().message});
  auto applied = ReadApplied(*conn);
  if (!applied) return std::unexpected(std::pair{StoreError::kInvalid, applied.error()});
  auto ok = CheckSchema(SchemaManifest(), *applied);
  if (!ok) return std::unexpected(std::pair{StoreError::kInvalid, ok.error()});
  return {};
}

}  // namespace tessera::store::pg

#include "store/pg/listener.h"

#include <poll.h>

#include <set>
#include <variant>

#include "log/log.h"
#include "names/userid.h"
#include "store/notification.h"
#include "store/pg/connection.h"
#include "store/sql_text.h"

namespace tessera::store::pg {
namespace {
constexpr auto kHeartbeat = std::chrono::milliseconds(400);
constexpr auto kMinReloadInterval = std::chrono::milliseconds(250);
// Bad rows logged one by one per load; the rest are counted.
constexpr int kMaxRowLogs = 10;

class RowLog {
 public:
  void Refused(std::string_view table, std::string_view key, std::string_view why) {
    if (++count_ <= kMaxRowLogs) {
      log::Error(std::string(table) + " row " + LogSafePrefix(key) +
                 " refused: " + std::string(why));
    }
  }
  ~RowLog() {
    if (count_ > kMaxRowLogs) {
      log::Error(std::to_string(count_ - kMaxRowLogs) + " more unreadable rows refused");
    }
  }

 private:
  int count_ = 0;
};

// Loads everything; LISTEN comes first so no change between the load and the LISTEN is lost.
bool Load(Connection& conn, ChangeSink& sink) {
  if (!conn.Exec("LISTEN tessera_accounts; LISTEN tessera_revocations; LISTEN tessera_tokens"))
    return false;
  auto accounts = conn.Exec(std::string("SELECT userid, ") + kStateColumns + " FROM accounts");
  auto revoked = conn.Exec("SELECT ticket_hash, " TESSERA_EPOCH_SQL(
      "expires_at") " FROM revoked_tickets "
                    "WHERE expires_at > now()");
  auto grants = conn.Exec(std::string("SELECT t.jti, ") + kGrantColumns + " FROM " + kGrantFrom +
                          " WHERE t.expires_at > now()");
  if (!accounts || !revoked || !grants) return false;
  RowLog bad;
  CacheSnapshot snapshot;
  for (int i = 0; i < PQntuples(accounts->get()); ++i) {
    std::string userid = PQgetvalue(accounts->get(), i, 0);
    auto state = StateFromRow(accounts->get(), i, 1);
    if (!names::IsValidUserid(userid)) {
      bad.Refused("accounts", userid, Describe(RowError::kBadUserid));
    } else if (!state) {
      bad.Refused("accounts", userid, Describe(state.error()));
    } else {
      snapshot.accounts.emplace(std::move(userid), *state);
    }
  }
  for (int i = 0; i < PQntuples(revoked->get()); ++i) {
    std::string hash = PQgetvalue(revoked->get(), i, 0);
    auto expires_at = EpochFromRow(revoked->get(), i, 1);
    if (!expires_at) {
      // Fail closed: a revocation whose expiry cannot be read is kept for good.
      bad.Refused("revoked_tickets", hash,
                  std::string(Describe(expires_at.error())) + ", kept for good");
    }
    snapshot.revoked.emplace(std::move(hash), expires_at.value_or(kEndOfTime));
  }
  for (int i = 0; i < PQntuples(grants->get()); ++i) {
    std::string jti = PQgetvalue(grants->get(), i, 0);
    auto grant = GrantFromRow(grants->get(), i, 1);
    if (!grant) {
      bad.Refused("api_tokens", jti, Describe(grant.error()));
    } else {
      snapshot.grants.emplace(std::move(jti), std::move(*grant));
    }
  }
  sink.Replace(std::move(snapshot));
  return true;
}

// Applies one well-formed change. False when PostgreSQL failed (reconnect).
bool Apply(Connection& conn, ChangeSink& sink, const clock::Clock& clock,
           const Notification& change) {
  if (const auto* account = std::get_if<AccountChanged>(&change)) {
    auto row =
        conn.Exec(std::string("SELECT ") + kStateColumns + " FROM accounts WHERE userid = $1",
                  {account->userid});
    if (!row) return false;
    if (PQntuples(row->get()) == 0) {
      sink.SetAccount(account->userid, std::nullopt);
      return true;
    }
    auto state = StateFromRow(row->get(), 0, 0);
    if (!state) RowLog().Refused("accounts", account->userid, Describe(state.error()));
    sink.SetAccount(account->userid, state ? std::optional(*state) : std::nullopt);
  } else if (const auto* grant = std::get_if<GrantChanged>(&change)) {
    auto row = conn.Exec(
        std::string("SELECT ") + kGrantColumns + " FROM " + kGrantFrom + " WHERE t.jti = $1",
        {grant->jti});
    if (!row) return false;
    if (PQntuples(row->get()) == 0) {
      sink.SetGrant(grant->jti, std::nullopt);
      return true;
    }
    auto record = GrantFromRow(row->get(), 0, 0);
    if (!record) RowLog().Refused("api_tokens", grant->jti, Describe(record.error()));
    sink.SetGrant(grant->jti, record ? std::optional(std::move(*record)) : std::nullopt);
  } else if (const auto* revoked = std::get_if<TicketRevoked>(&change)) {
    sink.AddRevocation(revoked->ticket_hash, revoked->expires_at, clock.Now());
  }
  return true;
}

// A full reload asked for by junk, by '*' or by a flood, and not yet done.
struct PendingReload {
  bool due = false;
  int junk = 0;
  std::string first_junk;  // channel, error and a sanitized prefix of the first junk payload
  std::chrono::steady_clock::time_point last_load;
  std::size_t coalesced = 0;  // well-formed changes a due reload will cover
};

// More distinct accounts and grants than this in one batch of notifications are answered by one
// full reload instead of a query each: a flood (NOTIFY needs no privilege) costs a few reloads a
// second, never a backlog that delays a revocation behind it or starves the heartbeat.
constexpr std::size_t kMaxSingleFetches = 64;

// Reads every notification that has arrived. Revocations are applied at once (they carry all
// they need); account and grant changes are collected, each key once, then fetched — or, past
// kMaxSingleFetches or when a reload is due anyway, left to that reload. Junk and '*' make a full
// reload due. False when PostgreSQL failed.
bool Drain(Connection& conn, ChangeSink& sink, const clock::Clock& clock, PendingReload& pending) {
  std::set<std::string> accounts, grants;
  while (PGnotify* n = PQnotifies(conn.raw())) {
    std::string channel = n->relname ? n->relname : "";
    std::string payload = n->extra ? n->extra : "";
    PQfreemem(n);
    auto change = ParseNotification(channel, payload);
    if (!change) {
      if (pending.junk++ == 0) {
        pending.first_junk = LogSafePrefix(channel) + ": " + std::string(Describe(change.error())) +
                             " '" + LogSafePrefix(payload) + "'";
      }
      pending.due = true;
    } else if (std::holds_alternative<ReloadAll>(*change)) {
      pending.due = true;
    } else if (const auto* revoked = std::get_if<TicketRevoked>(&*change)) {
      sink.AddRevocation(revoked->ticket_hash, revoked->expires_at, clock.Now());
    } else if (pending.due) {
      ++pending.coalesced;
    } else if (const auto* account = std::get_if<AccountChanged>(&*change)) {
      accounts.insert(account->userid);
    } else if (const auto* grant = std::get_if<GrantChanged>(&*change)) {
      grants.insert(grant->jti);
    }
    if (!pending.due && accounts.size() + grants.size() > kMaxSingleFetches) {
      pending.due = true;
      pending.coalesced += accounts.size() + grants.size();
    }
  }
  if (pending.due) return true;  // the reload covers what was collected
  for (const std::string& userid : accounts) {
    if (!Apply(conn, sink, clock, AccountChanged{userid})) return false;
  }
  for (const std::string& jti : grants) {
    if (!Apply(conn, sink, clock, GrantChanged{jti})) return false;
  }
  return true;
}

// Does a due reload, at most one per kMinReloadInterval: a flood of junk costs a few reloads a
// second and one log line each, never a stale cache for longer than that. False when PostgreSQL
// failed.
bool ReloadIfDue(Connection& conn, ChangeSink& sink, PendingReload& pending) {
  auto now = std::chrono::steady_clock::now();
  if (!pending.due || now - pending.last_load < kMinReloadInterval) return true;
  if (pending.junk > 0) {
    log::Warning("change listener: " + std::to_string(pending.junk) +
                 " malformed notification(s), first on " + pending.first_junk +
                 "; reloading everything");
  }
  if (pending.coalesced > kMaxSingleFetches) {
    log::Info("change listener: " + std::to_string(pending.coalesced) +
              " changes at once; reloading everything instead of each");
  }
  pending = PendingReload{false, 0, "", now, 0};
  return Load(conn, sink);
}
}  // namespace

ChangeListener::ChangeListener(std::string conninfo, ChangeSink& sink, const clock::Clock& clock)
    : conninfo_(std::move(conninfo)), sink_(sink), clock_(clock) {}

ChangeListener::~ChangeListener() { Stop(); }

void ChangeListener::Start() {
  // The thread's fence: an exception (a bug, or memory running out) must not terminate the
  // worker. The cache is marked lost (authentication fails closed, 503) and the listener starts
  // over after a pause.
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      try {
        Run();
        return;
      } catch (const std::exception& e) {
        log::Error(std::string("change listener failed: ") + e.what() + "; starting over");
      } catch (...) {
        log::Error("change listener failed; starting over");
      }
      sink_.MarkLost();
      for (int i = 0; i < 10 && !stop_.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

void ChangeListener::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ChangeListener::Run() {
  auto backoff = std::chrono::milliseconds(50);
  bool was_connected = true;
  while (!stop_.load()) {
    auto conn = Connection::Open(conninfo_, std::chrono::seconds(2), "tessera-listener");
    if (!conn || !Load(*conn, sink_)) {
      sink_.MarkLost();
      if (was_connected) {
        log::Warning(
            "change listener cannot reach PostgreSQL; authentication answers 503 until it can");
      }
      was_connected = false;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (!was_connected) log::Info("change listener reconnected");
    was_connected = true;
    backoff = std::chrono::milliseconds(50);
    auto last_beat = std::chrono::steady_clock::now();
    PendingReload pending{false, 0, "", last_beat, 0};
    while (!stop_.load() && conn->Healthy()) {
      pollfd p{PQsocket(conn->raw()), POLLIN, 0};
      poll(&p, 1, 100);
      if (PQconsumeInput(conn->raw()) == 0) break;
      if (!Drain(*conn, sink_, clock_, pending) || !ReloadIfDue(*conn, sink_, pending)) break;
      if (std::chrono::steady_clock::now() - last_beat >= kHeartbeat) {
        if (!conn->Exec("SELECT 1")) break;
        // Heard from PostgreSQL, and nothing it said is waiting (a due reload marks fresh itself).
        if (!pending.due) sink_.MarkFresh();
        last_beat = std::chrono::steady_clock::now();
      }
    }
    sink_.MarkLost();
  }
}

}  // namespace tessera::store::pg

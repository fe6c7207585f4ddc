#include "store/pg/listener.h"

#include <poll.h>

#include <cstdio>
#include <variant>

#include "log/log.h"
#include "store/notification.h"
#include "store/pg/connection.h"
#include "store/pg/rows.h"
#include "store/sql_text.h"

namespace tessera::store::pg {
namespace {
constexpr auto kHeartbeat = std::chrono::milliseconds(400);
constexpr auto kMinStartOverInterval = std::chrono::milliseconds(250);
// Bad rows logged one by one per start; the rest are counted.
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

// Starts over: LISTEN first, so no change after this point goes unheard; then the cache forgets
// every account and grant it holds (changes may have been missed before) and takes the live
// revocations, which are loaded whole. Accounts and grants are not loaded: the cache reads the
// ones it needs.
bool StartOver(Connection& conn, ChangeSink& sink) {
  if (!conn.Exec("LISTEN tessera_accounts; LISTEN tessera_revocations; LISTEN tessera_tokens"))
    return false;
  auto revoked = conn.Exec("SELECT ticket_hash, " TESSERA_EPOCH_SQL(
      "expires_at") " AS expires_at FROM revoked_tickets WHERE expires_at > now()");
  if (!revoked) return false;
  RowLog bad;
  Revocations revocations;
  RowReader rows(revoked->get());
  for (int i = 0; i < rows.size(); ++i) {
    auto hash = rows.row(i).Text("ticket_hash");
    auto expires_at = rows.row(i).Time("expires_at");
    // Without a column (a bug, logged) the listener cannot start: authentication fails closed.
    if ((!hash && hash.error() == RowError::kMissingColumn) ||
        (!expires_at && expires_at.error() == RowError::kMissingColumn))
      return false;
    if (!hash) {
      bad.Refused("revoked_tickets", "", Describe(hash.error()));  // the primary key: never NULL
      continue;
    }
    if (!expires_at) {
      // Fail closed: a revocation whose expiry cannot be read is kept for good.
      bad.Refused("revoked_tickets", *hash,
                  std::string(Describe(expires_at.error())) + ", kept for good");
    }
    revocations.emplace(std::move(*hash), expires_at.value_or(kEndOfTime));
  }
  sink.Reset(std::move(revocations));
  return true;
}

// A start-over asked for by junk or by '*', and not yet done.
struct PendingReset {
  bool due = false;
  int junk = 0;
  int stars = 0;           // '*': TRUNCATE, or a statement that changed many rows (sql/0012)
  std::string first_junk;  // channel, error and a sanitized prefix of the first junk payload
  std::chrono::steady_clock::time_point last_start;
};

// Reads every notification that has arrived and applies it: a changed account or grant is
// forgotten (nothing to read, nothing to do when the cache does not hold it), a revocation is
// added. Junk and '*' make a start-over due.
void Drain(Connection& conn, ChangeSink& sink, const clock::Clock& clock, PendingReset& pending) {
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
      ++pending.stars;
      pending.due = true;
    } else if (const auto* revoked = std::get_if<TicketRevoked>(&*change)) {
      sink.AddRevocation(revoked->ticket_hash, revoked->expires_at, clock.Now());
    } else if (const auto* account = std::get_if<AccountChanged>(&*change)) {
      sink.ForgetAccount(account->userid);
    } else if (const auto* grant = std::get_if<GrantChanged>(&*change)) {
      sink.ForgetGrant(grant->jti);
    }
  }
}

// Does a due start-over, at most one per kMinStartOverInterval: a flood of junk or '*' costs a few
// start-overs a second and a log line or two each, and a read of a row races at most that many
// (auth/session_cache.h), never a stale cache for longer than that. False when PostgreSQL failed.
bool StartOverIfDue(Connection& conn, ChangeSink& sink, PendingReset& pending) {
  auto now = std::chrono::steady_clock::now();
  if (!pending.due || now - pending.last_start < kMinStartOverInterval) return true;
  if (pending.junk > 0) {
    log::Warning("change listener: " + std::to_string(pending.junk) +
                 " malformed notification(s), first on " + pending.first_junk +
                 "; forgetting every cached account and grant");
  }
  std::string why = std::to_string(pending.stars) + " '*' and " + std::to_string(pending.junk) +
                    " malformed notification(s)";
  pending = PendingReset{false, 0, 0, "", now};
  if (!StartOver(conn, sink)) return false;
  // A bulk change (or TRUNCATE) costs every worker this, and a cold cache after it.
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - now;
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.2f", took.count());
  log::Info("change listener: started over for " + why + " in " + ms +
            " ms: every cached account and grant forgotten, revocations reloaded");
  return true;
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
    if (!conn || !StartOver(*conn, sink_)) {
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
    PendingReset pending{false, 0, 0, "", last_beat};
    while (!stop_.load() && conn->Healthy()) {
      pollfd p{PQsocket(conn->raw()), POLLIN, 0};
      poll(&p, 1, 100);
      if (PQconsumeInput(conn->raw()) == 0) break;
      Drain(*conn, sink_, clock_, pending);
      if (!StartOverIfDue(*conn, sink_, pending)) break;
      if (std::chrono::steady_clock::now() - last_beat >= kHeartbeat) {
        if (!conn->Exec("SELECT 1")) break;
        // Heard from PostgreSQL, and nothing it said is waiting (a due start-over marks fresh
        // itself).
        if (!pending.due) sink_.MarkFresh();
        last_beat = std::chrono::steady_clock::now();
      }
    }
    sink_.MarkLost();
  }
}

}  // namespace tessera::store::pg

#include "store/pg/listener.h"

#include <poll.h>

#include <unordered_map>

#include "log/log.h"
#include "store/pg/connection.h"

namespace tessera::store::pg {
namespace {
constexpr auto kHeartbeat = std::chrono::milliseconds(400);

// Loads everything; LISTEN comes first so no change between the load and the LISTEN is lost.
bool Load(Connection& conn, auth::SessionCache& cache) {
  if (!conn.Exec("LISTEN tessera_accounts; LISTEN tessera_revocations; LISTEN tessera_tokens")) return false;
  auto accounts = conn.Exec(
      "SELECT userid, enabled, extract(epoch FROM expires_at)::bigint, session_epoch FROM accounts");
  auto revoked = conn.Exec(
      "SELECT ticket_hash, extract(epoch FROM expires_at)::bigint FROM revoked_tickets "
      "WHERE expires_at > now()");
  auto grants = conn.Exec(std::string("SELECT t.jti, ") + kGrantColumns + " FROM " + kGrantFrom +
                          " WHERE t.expires_at > now()");
  if (!accounts || !revoked || !grants) return false;
  std::unordered_map<std::string, auth::Grant> g;
  for (int i = 0; i < PQntuples(grants->get()); ++i) {
    g.emplace(PQgetvalue(grants->get(), i, 0), GrantFromRow(grants->get(), i, 1));
  }
  std::unordered_map<std::string, AccountState> a;
  for (int i = 0; i < PQntuples(accounts->get()); ++i) {
    a.emplace(PQgetvalue(accounts->get(), i, 0), StateFromRow(accounts->get(), i, 1));
  }
  std::unordered_map<std::string, std::int64_t> r;
  for (int i = 0; i < PQntuples(revoked->get()); ++i) {
    r.emplace(PQgetvalue(revoked->get(), i, 0), std::stoll(PQgetvalue(revoked->get(), i, 1)));
  }
  cache.Load(std::move(a), std::move(r), std::move(g));
  return true;
}

bool Apply(Connection& conn, auth::SessionCache& cache, const clock::Clock& clock, PGnotify* n) {
  std::string_view channel = n->relname;
  std::string payload = n->extra;
  if (channel == "tessera_accounts") {
    auto row = conn.Exec(
        "SELECT enabled, extract(epoch FROM expires_at)::bigint, session_epoch FROM accounts "
        "WHERE userid = $1",
        {payload});
    if (!row) return false;
    if (PQntuples(row->get()) == 0) {
      cache.SetAccount(payload, std::nullopt);
    } else {
      cache.SetAccount(payload, StateFromRow(row->get(), 0, 0));
    }
  } else if (channel == "tessera_tokens") {
    auto row = conn.Exec(std::string("SELECT ") + kGrantColumns + " FROM " + kGrantFrom + " WHERE t.jti = $1",
                         {payload});
    if (!row) return false;
    cache.SetGrant(payload, PQntuples(row->get()) == 0 ? std::nullopt
                                                       : std::optional(GrantFromRow(row->get(), 0, 0)));
  } else if (channel == "tessera_revocations") {
    std::size_t space = payload.find(' ');
    if (space == std::string::npos) return true;
    cache.AddRevocation(payload.substr(0, space), std::stoll(payload.substr(space + 1)), clock.Now());
  }
  return true;
}
}  // namespace

ChangeListener::ChangeListener(std::string conninfo, auth::SessionCache& cache,
                               const clock::Clock& clock)
    : conninfo_(std::move(conninfo)), cache_(cache), clock_(clock) {}

ChangeListener::~ChangeListener() { Stop(); }

void ChangeListener::Start() { thread_ = std::thread([this] { Run(); }); }

void ChangeListener::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ChangeListener::Run() {
  auto backoff = std::chrono::milliseconds(50);
  bool was_connected = true;
  while (!stop_.load()) {
    auto conn = Connection::Open(conninfo_, std::chrono::seconds(2), "tessera-listener");
    if (!conn || !Load(*conn, cache_)) {
      cache_.MarkLost();
      if (was_connected) {
        log::Warning("change listener cannot reach PostgreSQL; authentication answers 503 until it can");
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
    while (!stop_.load() && conn->Healthy()) {
      pollfd p{PQsocket(conn->raw()), POLLIN, 0};
      poll(&p, 1, 100);
      if (PQconsumeInput(conn->raw()) == 0) break;
      bool ok = true;
      while (PGnotify* n = PQnotifies(conn->raw())) {
        ok = ok && Apply(*conn, cache_, clock_, n);
        PQfreemem(n);
      }
      if (!ok) break;
      if (std::chrono::steady_clock::now() - last_beat >= kHeartbeat) {
        if (!conn->Exec("SELECT 1")) break;
        cache_.MarkFresh();
        last_beat = std::chrono::steady_clock::now();
      }
    }
    cache_.MarkLost();
  }
}

}  // namespace tessera::store::pg

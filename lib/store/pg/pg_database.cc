#include "store/pg/pg_database.h"

#include <optional>

#include "log/log.h"
#include "store/migrations.h"
#include "store/pg/connection.h"
#include "store/pg/migrator.h"

namespace tessera::store::pg {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstRetry{50};

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(PgOptions options) : options_(std::move(options)) {}

  std::expected<void, StoreError> Ping() override {
    auto result = WithConnection([](Connection& c) { return c.Exec("SELECT 1"); });
    if (!result) return std::unexpected(result.error());
    return {};
  }

 private:
  // Runs `op` on a live connection. If the connection turns out to be dead (the server restarted)
  // it reconnects once at once, then falls back to the backoff schedule.
  template <typename Op>
  auto WithConnection(Op op) -> std::expected<Result, StoreError> {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!Connect()) return std::unexpected(StoreError::kUnavailable);
      auto result = op(*conn_);
      if (result) return std::move(*result);
      if (result.error().kind != StoreError::kUnavailable || conn_->Healthy()) {
        log::Warning("database: " + result.error().message);
        return std::unexpected(result.error().kind);
      }
      log::Warning("database connection lost: " + result.error().message);
      conn_.reset();
    }
    return std::unexpected(StoreError::kUnavailable);
  }

  bool Connect() {
    if (conn_ && conn_->Healthy()) return true;
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

  PgOptions options_;
  std::optional<Connection> conn_;
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

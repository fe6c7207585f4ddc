#include "auth/ticket_setup.h"

#include "crypto/key_file.h"
#include "crypto/ticket.h"

namespace tessera::auth {

std::expected<std::unique_ptr<TicketService>, std::string> MakeTicketService(
    const config::Config& config, SessionCache& cache, const clock::Clock& clock) {
  if (config.ticket_key.empty()) return std::unexpected("ticket_key is not set");
  if (config.csrf_key.empty()) return std::unexpected("csrf_key is not set");

  auto secret = crypto::LoadSecretKey(config.ticket_key);
  if (!secret) return std::unexpected(secret.error());
  auto older =
      crypto::LoadPublicKeys({config.ticket_verify_keys.begin(), config.ticket_verify_keys.end()});
  if (!older) return std::unexpected(older.error());
  auto csrf_local = crypto::LoadLocalKey(config.csrf_key);
  if (!csrf_local) return std::unexpected(csrf_local.error());
  auto csrf = crypto::CsrfKey::FromBytes(csrf_local->bytes());

  TicketPolicy policy;
  policy.password_cost = {config.password_opslimit, config.password_memlimit_kib * 1024};
  policy.throttle = {config.login_max_user_failures, config.login_max_addr_failures,
                     config.login_failure_window, config.login_max_account_networks};
  policy.max_sessions = config.max_sessions_per_account;
  policy.retention.audit_seconds = std::int64_t{config.audit_retention_days} * 86400;
  policy.retention.failure_window_seconds = config.login_failure_window;
  // A session is dead once its last ticket has expired: stamped at most 180 s ahead of its
  // renewal (60 s to reach a session epoch, 120 s to be unique), valid 7200 s after that, so
  // max age + max skew (7500 s) covers it.
  policy.retention.session_seconds = crypto::kTicketMaxAge + crypto::kTicketMaxSkew;
  policy.prune_interval_seconds = config.prune_interval;
  return std::make_unique<TicketService>(crypto::TicketKeys(std::move(*secret), std::move(*older)),
                                         std::move(*csrf), cache, clock, policy);
}

}  // namespace tessera::auth

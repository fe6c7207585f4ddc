#include "auth/ticket_setup.h"

#include "crypto/keyring.h"
#include "crypto/paserk.h"
#include "crypto/ticket.h"

namespace tessera::auth {
namespace {
std::string_view View(const crypto::SecretBytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
}  // namespace

std::expected<std::unique_ptr<TicketService>, std::string> MakeTicketService(
    const config::Config& config, SessionCache& cache, const clock::Clock& clock) {
  if (config.ticket_key.empty()) return std::unexpected("ticket_key is not set");
  if (config.csrf_key.empty()) return std::unexpected("csrf_key is not set");

  auto secret_text = crypto::ReadKeyFile(config.ticket_key, /*secret=*/true);
  if (!secret_text) return std::unexpected(secret_text.error());
  auto secret = crypto::ParseSecretPaserk(View(*secret_text));
  if (!secret) return std::unexpected(config.ticket_key + " does not hold a valid k4.secret key");
  std::vector<crypto::PublicKey> older;
  for (const auto& file : config.ticket_verify_keys) {
    auto text = crypto::ReadKeyFile(file, /*secret=*/false);
    if (!text) return std::unexpected(text.error());
    auto key = crypto::ParsePublicPaserk(View(*text));
    if (!key) return std::unexpected(file + " does not hold a valid k4.public key");
    older.push_back(*key);
  }
  auto csrf_text = crypto::ReadKeyFile(config.csrf_key, /*secret=*/true);
  if (!csrf_text) return std::unexpected(csrf_text.error());
  auto csrf_local = crypto::ParseLocalPaserk(View(*csrf_text));
  if (!csrf_local) return std::unexpected(config.csrf_key + " does not hold a valid k4.local key");
  auto csrf = crypto::CsrfKey::FromBytes(csrf_local->bytes());

  TicketPolicy policy;
  policy.password_cost = {config.password_opslimit, config.password_memlimit_kib * 1024};
  policy.throttle = {config.login_max_user_failures, config.login_max_addr_failures,
                     config.login_failure_window};
  policy.retention.audit_seconds = std::int64_t{config.audit_retention_days} * 86400;
  policy.retention.failure_window_seconds = config.login_failure_window;
  // A session is dead once its last ticket has expired: stamped at most 60 s + a few seconds
  // ahead of its renewal, valid 7200 s after that.
  policy.retention.session_seconds = crypto::kTicketMaxAge + crypto::kTicketMaxSkew;
  policy.prune_interval_seconds = config.prune_interval;
  return std::make_unique<TicketService>(
      crypto::TicketKeys(std::move(*secret), std::move(older)), std::move(*csrf), cache, clock, policy);
}

}  // namespace tessera::auth

#include "auth/token_setup.h"

#include <filesystem>
#include <vector>

#include "crypto/keyring.h"

namespace tessera::auth {

std::expected<std::unique_ptr<TokenFactory>, std::string> MakeTokenFactory(
    const config::Config& config, const clock::Clock& clock) {
  if (config.token_key.empty()) return std::unique_ptr<TokenFactory>();
  auto ring = crypto::Keyring::Load(
      config.token_key, std::vector<std::filesystem::path>(config.token_verify_keys.begin(),
                                                           config.token_verify_keys.end()));
  if (!ring) return std::unexpected(ring.error());
  return std::make_unique<TokenFactory>(config.server_id,
                                        std::make_shared<const crypto::Keyring>(std::move(*ring)),
                                        clock, config.token_clock_skew);
}

}  // namespace tessera::auth

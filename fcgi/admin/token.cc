// tessera-admin token verify | mint: the operator's view of bearer tokens.
//
// `verify` reads a token on stdin and prints its claims, or the exact reason it fails: this is an
// operator's tool, so unlike the worker it may say why. `mint` makes a grant in api_tokens (via
// tessera_grant_token) with the chosen permissions, repository and lifetime and prints the token
// for it, signed with the configured key; `mint --jti ID` re-mints the token of an existing grant
// from its row. `revoke ID` revokes a grant on every worker.
#include <sodium.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "admin/commands.h"
#include "auth/token_factory.h"
#include "clock/clock.h"
#include "crypto/keyring.h"
#include "crypto/rfc3339.h"
#include "store/pg/token_admin.h"
#include "store/sql_text.h"

#include <nlohmann/json.hpp>

namespace tessera::admin {
namespace {

std::expected<std::shared_ptr<const crypto::Keyring>, std::string> LoadKeys(
    const config::Config& config) {
  if (config.token_key.empty()) return std::unexpected("no token_key in the configuration");
  std::vector<std::filesystem::path> publics(config.token_verify_keys.begin(),
                                             config.token_verify_keys.end());
  auto ring = crypto::Keyring::Load(config.token_key, publics);
  if (!ring) return std::unexpected(ring.error());
  return std::make_shared<const crypto::Keyring>(std::move(*ring));
}

// "90", "90s", "15m", "12h", "30d" → seconds; nullopt for anything else or over ten years.
std::optional<std::int64_t> ParseLifetime(std::string_view text) {
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: unit = 0; break;
    }
    if (unit != 0) text.remove_suffix(1);
    else unit = 1;
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n <= 0) return std::nullopt;
  if (n > 10LL * 366 * 86400 / unit) return std::nullopt;
  return n * unit;
}

int Verify(const config::Config& config, const auth::TokenFactory& factory) {
  std::string token;
  char buf[4096];
  ssize_t n;
  while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0 && token.size() < 16384) {
    token.append(buf, static_cast<std::size_t>(n));
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  auto verified = factory.Verify(token);
  sodium_memzero(token.data(), token.size());
  if (!verified) {
    std::cout << "invalid: " << auth::Describe(verified.error()) << "\n";
    return 1;
  }
  nlohmann::json out = {
      {"iss", config.server_id},
      {"sub", verified->subject()},
      {"jti", verified->jti()},
      {"exp", crypto::FormatRfc3339(verified->expires_at())},
      {"read", verified->permissions().read},
      {"write", verified->permissions().write},
      {"delete", verified->permissions().del},
  };
  if (verified->repo()) out["repo"] = *verified->repo();
  std::cout << "valid\n" << out.dump(2) << "\n";
  return 0;
}

int Mint(const config::Config& config, const auth::TokenFactory& factory, const Args& args) {
  auth::TokenRequest request;
  request.lifetime = std::chrono::seconds(30 * 86400);
  bool shaped = false;  // permissions, repo or lifetime given (not allowed with --jti)
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--user" && has_value) {
      request.subject = args[++i];
    } else if (args[i] == "--repo" && has_value) {
      request.repo = std::string(args[++i]);
      shaped = true;
    } else if (args[i] == "--jti" && has_value) {
      request.jti = args[++i];
    } else if (args[i] == "--lifetime" && has_value) {
      auto seconds = ParseLifetime(args[++i]);
      if (!seconds) {
        std::cerr << "tessera-admin: --lifetime takes N, Ns, Nm, Nh or Nd (at most ten years)\n";
        return 2;
      }
      request.lifetime = std::chrono::seconds(*seconds);
      shaped = true;
    } else if (args[i] == "--read") {
      request.permissions.read = shaped = true;
    } else if (args[i] == "--write") {
      request.permissions.write = shaped = true;
    } else if (args[i] == "--delete") {
      request.permissions.del = shaped = true;
    } else {
      return Usage();
    }
  }
  std::expected<store::pg::GrantRow, std::string> grant = std::unexpected("");
  if (!request.jti.empty()) {
    if (shaped || !request.subject.empty()) {
      std::cerr << "tessera-admin: --jti re-mints an existing grant; give nothing else\n";
      return 2;
    }
    grant = store::pg::ReadGrant(config.database, request.jti);
  } else {
    if (request.subject.empty()) return Usage();
    grant = store::pg::CreateGrant(config.database, request.subject, request.permissions.read,
                                   request.permissions.write, request.permissions.del, request.repo,
                                   request.lifetime.count());
  }
  if (!grant) {
    std::cerr << "tessera-admin: " << grant.error() << "\n";
    return 1;
  }
  // The grant row says how long the token may live: never past its expiry (an infinite expiry
  // gets the longest lifetime a token can have), and not at all once revoked or expired.
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (grant->revoked || grant->expires_at <= now) {
    std::cerr << "tessera-admin: grant " << grant->jti << " is revoked or expired\n";
    return 1;
  }
  constexpr std::int64_t kLongestLifetime = 10LL * 366 * 86400;
  std::int64_t left = grant->expires_at - now > kLongestLifetime ? kLongestLifetime : grant->expires_at - now;
  request = {grant->userid, {grant->read, grant->write, grant->del}, grant->repo,
             std::chrono::seconds(left), grant->jti};
  auto token = factory.Create(request);
  if (!token) {
    std::cerr << "tessera-admin: " << auth::Describe(token.error()) << "\n";
    return 1;
  }
  // The token alone on stdout (flushed first), so scripts can capture it; the grant on stderr.
  std::cout << *token << std::endl;
  std::cerr << "grant " << request.jti << " for " << request.subject << " until "
            << (grant->expires_at == store::kEndOfTime ? std::string("no expiry (infinity)")
                                                        : crypto::FormatRfc3339(grant->expires_at))
            << "\n";
  return 0;
}

}  // namespace

int Token(const config::Config& config, const Args& args) {
  if (args.size() == 2 && args[0] == "revoke") {
    auto revoked = store::pg::RevokeGrant(config.database, std::string(args[1]));
    if (!revoked) {
      std::cerr << "tessera-admin: " << revoked.error() << "\n";
      return 1;
    }
    std::cout << "revoked " << args[1] << "\n";
    return 0;
  }
  if (args.empty() || (args[0] != "verify" && args[0] != "mint")) return Usage();
  auto keys = LoadKeys(config);
  if (!keys) {
    std::cerr << "tessera-admin: " << keys.error() << "\n";
    return 1;
  }
  static const clock::SystemClock kClock;
  auth::TokenFactory factory(config.server_id, *keys, kClock, config.token_clock_skew);
  if (args[0] == "verify") return args.size() == 1 ? Verify(config, factory) : Usage();
  return Mint(config, factory, Args(args.begin() + 1, args.end()));
}

}  // namespace tessera::admin

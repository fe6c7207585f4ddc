// tessera-admin token verify | mint: the operator's view of bearer tokens.
//
// `verify` reads a token on stdin and prints its claims, or the exact reason it fails: this is an
// operator's tool, so unlike the worker it may say why. `mint` makes a grant in api_tokens (via
// tessera_grant_token) with the chosen permissions, repository and lifetime and prints the token
// for it, signed with the configured key; `mint --jti ID` re-mints the token of an existing grant
// from its row. `revoke ID` revokes a grant on every worker.
#include <sodium.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "admin/commands.h"
#include "auth/token_factory.h"
#include "auth/token_lifetime.h"
#include "clock/clock.h"
#include "crypto/keyring.h"
#include "crypto/rfc3339.h"
#include "store/pg/token_admin.h"
#include "store/sql_text.h"

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

// What `mint` was asked for: a new grant (`request`), or with --jti the re-mint of an existing one.
struct MintArgs {
  auth::TokenRequest request;
  bool shaped = false;  // permissions, repo or lifetime given (not allowed with --jti)
};

// Parses mint's flags, or fails with the exit code (after saying why).
std::expected<MintArgs, int> ParseMintArgs(const Args& args) {
  MintArgs out;
  auth::TokenRequest& request = out.request;
  request.lifetime = std::chrono::seconds(30 * 86400);
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--user" && has_value) {
      request.subject = args[++i];
    } else if (args[i] == "--repo" && has_value) {
      request.repo = std::string(args[++i]);
      out.shaped = true;
    } else if (args[i] == "--jti" && has_value) {
      request.jti = args[++i];
    } else if (args[i] == "--lifetime" && has_value) {
      auto lifetime = auth::ParseLifetime(args[++i]);
      if (!lifetime) {
        std::cerr << "tessera-admin: --lifetime takes N, Ns, Nm, Nh or Nd (at most ten years)\n";
        return std::unexpected(2);
      }
      request.lifetime = *lifetime;
      out.shaped = true;
    } else if (args[i] == "--read") {
      request.permissions.read = out.shaped = true;
    } else if (args[i] == "--write") {
      request.permissions.write = out.shaped = true;
    } else if (args[i] == "--delete") {
      request.permissions.del = out.shaped = true;
    } else {
      return std::unexpected(Usage());
    }
  }
  if (!request.jti.empty() && (out.shaped || !request.subject.empty())) {
    std::cerr << "tessera-admin: --jti re-mints an existing grant; give nothing else\n";
    return std::unexpected(2);
  }
  if (request.jti.empty() && request.subject.empty()) return std::unexpected(Usage());
  return out;
}

// Reads the grant to re-mint, or makes the one asked for.
std::expected<store::pg::GrantRow, std::string> FindOrCreateGrant(
    const config::Config& config, const auth::TokenRequest& request) {
  if (!request.jti.empty()) return store::pg::ReadGrant(config.database, request.jti);
  return store::pg::CreateGrant(config.database, request.subject, request.permissions.read,
                                request.permissions.write, request.permissions.del, request.repo,
                                request.lifetime.count());
}

int Mint(const config::Config& config, const auth::TokenFactory& factory, const clock::Clock& clock,
         const Args& args) {
  auto parsed = ParseMintArgs(args);
  if (!parsed) return parsed.error();
  auto grant = FindOrCreateGrant(config, parsed->request);
  if (!grant) {
    std::cerr << "tessera-admin: " << grant.error() << "\n";
    return 1;
  }
  // The grant row says how long the token may live (auth/token_lifetime.h).
  auto lifetime = auth::LifetimeForGrant(grant->revoked, grant->expires_at, clock.Now());
  if (!lifetime) {
    std::cerr << "tessera-admin: grant " << grant->jti << " is "
              << (lifetime.error() == auth::GrantRefusal::kRevoked ? "revoked" : "expired") << "\n";
    return 1;
  }
  auto token = factory.Create(
      {grant->userid, {grant->read, grant->write, grant->del}, grant->repo, *lifetime, grant->jti});
  if (!token) {
    std::cerr << "tessera-admin: " << auth::Describe(token.error()) << "\n";
    return 1;
  }
  // The token alone on stdout (flushed first), so scripts can capture it; the grant on stderr.
  std::cout << *token << std::endl;
  std::cerr << "grant " << grant->jti << " for " << grant->userid << " until "
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
  return Mint(config, factory, kClock, Args(args.begin() + 1, args.end()));
}

}  // namespace tessera::admin

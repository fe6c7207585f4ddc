// tessera-admin token verify | mint | list | revoke: the operator's view of bearer tokens.
//
// `verify` reads a token on stdin and prints its claims, or the exact reason it fails: this is an
// operator's tool, so unlike the worker it may say why. `mint` makes a grant in api_tokens with the
// chosen permissions, repository and lifetime — named with --name (tessera.grant_token), else
// named after its jti (tessera_grant_token) — and prints the token for it, signed with the
// configured key; `mint --user A --name N` alone and `mint --jti ID` re-mint the token of an
// existing grant from its row. `list --user A` shows an account's grants, never a token. `revoke`
// revokes a grant, by jti or by account and name, on every worker.
#include <sodium.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "admin/commands.h"
#include "auth/token_factory.h"
#include "auth/token_lifetime.h"
#include "auth/token_setup.h"
#include "clock/clock.h"
#include "crypto/rfc3339.h"
#include "store/pg/token_admin.h"
#include "store/sql_text.h"

namespace tessera::admin {
namespace {

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

// A time as `token list` shows it: RFC 3339, or what the infinities mean.
std::string ShowTime(std::int64_t unix_seconds) {
  if (unix_seconds == store::kEndOfTime) return "never";
  if (unix_seconds == store::kBeginningOfTime) return "already";
  return crypto::FormatRfc3339(unix_seconds);
}

// What `mint` was asked for: a new grant (`request`, named with --name), or the re-mint of an
// existing one (--jti ID, or --user A --name N without permissions, repo or lifetime).
struct MintArgs {
  auth::TokenRequest request;
  std::optional<std::string> name;
  bool shaped = false;  // permissions, repo or lifetime given: a new grant
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
    } else if (args[i] == "--name" && has_value) {
      out.name = std::string(args[++i]);
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
  if (!request.jti.empty() && (out.shaped || !request.subject.empty() || out.name)) {
    std::cerr << "tessera-admin: --jti re-mints an existing grant; give nothing else\n";
    return std::unexpected(2);
  }
  if (request.jti.empty() && request.subject.empty()) return std::unexpected(Usage());
  const auth::Permissions& p = request.permissions;
  if (out.name && out.shaped && !p.read && !p.write && !p.del) {
    std::cerr << "tessera-admin: a new grant needs --read, --write or --delete (without any of "
                 "them, --user and --name re-mint the existing grant)\n";
    return std::unexpected(2);
  }
  return out;
}

// Reads the grant to re-mint, or makes the one asked for.
std::expected<store::pg::GrantRow, std::string> FindOrCreateGrant(const config::Config& config,
                                                                  const MintArgs& args) {
  const auth::TokenRequest& request = args.request;
  if (!request.jti.empty()) return store::pg::ReadGrant(config.database, request.jti);
  if (args.name && !args.shaped) {
    return store::pg::ReadNamedGrant(config.database, request.subject, *args.name);
  }
  return store::pg::CreateGrant(
      config.database,
      {request.subject, args.name, request.permissions.read, request.permissions.write,
       request.permissions.del, request.repo, request.lifetime.count()});
}

int Mint(const config::Config& config, const auth::TokenFactory& factory, const clock::Clock& clock,
         const Args& args) {
  auto parsed = ParseMintArgs(args);
  if (!parsed) return parsed.error();
  auto grant = FindOrCreateGrant(config, *parsed);
  if (!grant) {
    std::cerr << "tessera-admin: " << grant.error() << "\n";
    return 1;
  }
  // The grant row says how long the token may live (auth/token_lifetime.h).
  auto lifetime = auth::LifetimeForGrant(grant->revoked, grant->expires_at, clock.Now());
  if (!lifetime) {
    std::cerr << "tessera-admin: grant " << grant->jti << " (" << grant->userid << "'s '"
              << grant->name << "') is "
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
  std::cerr << "grant " << grant->jti << " '" << grant->name << "' for " << grant->userid
            << " until "
            << (grant->expires_at == store::kEndOfTime ? std::string("no expiry (infinity)")
                                                       : crypto::FormatRfc3339(grant->expires_at))
            << "\n";
  return 0;
}

// One line per grant, tab-separated: name, rights, repository (* for any), created, expires,
// state. The grant rows only: a token is never printed here.
int List(const config::Config& config, const clock::Clock& clock, const Args& args) {
  if (args.size() != 2 || args[0] != "--user") return Usage();
  auto grants = store::pg::ListGrants(config.database, std::string(args[1]));
  if (!grants) {
    std::cerr << "tessera-admin: " << grants.error() << "\n";
    return 1;
  }
  for (const auto& g : *grants) {
    std::string rights;
    for (auto [on, word] : {std::pair{g.read, "read"}, {g.write, "write"}, {g.del, "delete"}}) {
      if (on) rights += (rights.empty() ? "" : ",") + std::string(word);
    }
    auto lifetime = auth::LifetimeForGrant(g.revoked, g.expires_at, clock.Now());
    std::string_view state = lifetime                                           ? "live"
                             : lifetime.error() == auth::GrantRefusal::kRevoked ? "revoked"
                                                                                : "expired";
    std::cout << g.name << "\t" << (rights.empty() ? "none" : rights) << "\t"
              << g.repo.value_or("*") << "\t" << ShowTime(g.created_at) << "\t"
              << ShowTime(g.expires_at) << "\t" << state << "\n";
  }
  return 0;
}

// `revoke ID` or `revoke --user A --name N`.
int Revoke(const config::Config& config, const Args& args) {
  if (args.size() == 1) {
    auto revoked = store::pg::RevokeGrant(config.database, std::string(args[0]));
    if (!revoked) {
      std::cerr << "tessera-admin: " << revoked.error() << "\n";
      return 1;
    }
    std::cout << "revoked " << args[0] << "\n";
    return 0;
  }
  std::string user, name;
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--user") {
      user = args[i + 1];
    } else if (args[i] == "--name") {
      name = args[i + 1];
    } else {
      return Usage();
    }
  }
  if (args.size() != 4 || user.empty() || name.empty()) return Usage();
  auto jti = store::pg::RevokeNamedGrant(config.database, user, name);
  if (!jti) {
    std::cerr << "tessera-admin: " << jti.error() << "\n";
    return 1;
  }
  std::cout << "revoked " << *jti << " '" << name << "' of " << user << "\n";
  return 0;
}

}  // namespace

int Token(const config::Config& config, const Args& args) {
  static const clock::SystemClock kClock;
  if (!args.empty() && args[0] == "revoke")
    return Revoke(config, Args(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "list")
    return List(config, kClock, Args(args.begin() + 1, args.end()));
  if (args.empty() || (args[0] != "verify" && args[0] != "mint")) return Usage();
  auto factory = auth::MakeTokenFactory(config, kClock);
  if (!factory || !*factory) {
    std::cerr << "tessera-admin: "
              << (factory ? "no token_key in the configuration" : factory.error()) << "\n";
    return 1;
  }
  if (args[0] == "verify") return args.size() == 1 ? Verify(config, **factory) : Usage();
  return Mint(config, **factory, kClock, Args(args.begin() + 1, args.end()));
}

}  // namespace tessera::admin

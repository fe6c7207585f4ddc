// Mints bearer tokens for grants in bulk, for tests/bench/grant-cache: tessera-admin mints one
// token a process, and the bench needs a thousand or more, some for grants not inserted yet.
// Reads "<jti> <userid>" lines on standard input and prints one token a line (read only, one
// day), signed with KEY (a k4.secret file) for SERVER_ID. The grant rows are not consulted.
// Usage: bench_mint_tokens KEY SERVER_ID < grants
#include <sodium.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "auth/token_factory.h"
#include "clock/clock.h"
#include "crypto/keyring.h"

using namespace tessera;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s KEY SERVER_ID < \"jti userid\" lines\n", argv[0]);
    return 2;
  }
  if (sodium_init() < 0) return 1;
  auto ring = crypto::Keyring::Load(argv[1], {});
  if (!ring) {
    std::fprintf(stderr, "%s\n", ring.error().c_str());
    return 1;
  }
  const clock::SystemClock clock;
  auth::TokenFactory factory(argv[2], std::make_shared<const crypto::Keyring>(std::move(*ring)),
                             clock);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream fields(line);
    std::string jti, userid;
    if (!(fields >> jti >> userid)) continue;
    auto token =
        factory.Create({userid, {true, false, false}, std::nullopt, std::chrono::hours(24), jti});
    if (!token) {
      std::fprintf(stderr, "cannot mint a token for %s\n", jti.c_str());
      return 1;
    }
    std::cout << *token << '\n';
  }
  return 0;
}

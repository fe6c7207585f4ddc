// Benchmark: TokenFactory::Verify of a typical bearer token (one thread) next to the bare
// crypto_sign_verify_detached over the same signed bytes, in the same run. Rounds alternate
// between the two and the best round of each counts, so a noisy neighbour hurts both alike.
// Goal (issue 3): Verify costs at most 15% more than the bare signature check.
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "auth/token_factory.h"
#include "crypto/base64url.h"
#include "crypto/pae.h"

using namespace tessera;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 7;

  clock::SystemClock clock;
  crypto::SecretKey key = crypto::SecretKey::Generate();
  crypto::PublicKey pub = key.Public();
  auto ring = std::make_shared<crypto::Keyring>(std::move(key));
  auth::TokenFactory factory("backup.example.org", ring, clock);
  std::string token = *factory.Create({"alice@pbs",
                                       {true, true, false},
                                       "alice/laptop",
                                       std::chrono::hours(24 * 30),
                                       "3f2a9c0e5b7d4e18a6c1b2d3e4f50617"});

  // The exact bytes Verify hands to Ed25519: PAE(header, message, footer, "") and the signature.
  std::size_t dot = token.rfind('.');
  auto body = *crypto::Base64Decode(std::string_view(token).substr(10, dot - 10), 8192);
  auto footer = *crypto::Base64Decode(std::string_view(token).substr(dot + 1), 8192);
  std::string_view message(reinterpret_cast<const char*>(body.data()), body.size() - 64);
  std::string m2 = crypto::Pae(
      {"v4.public.", message,
       std::string_view(reinterpret_cast<const char*>(footer.data()), footer.size()), ""});
  const unsigned char* sig = body.data() + body.size() - 64;

  double best_verify = 1e30, best_bare = 1e30;
  int sink = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) sink += factory.Verify(token).has_value();
    auto t1 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      sink += crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(m2.data()),
                                          m2.size(), pub.bytes().data()) == 0;
    }
    auto t2 = Clock::now();
    best_verify = std::min(best_verify, std::chrono::duration<double>(t1 - t0).count());
    best_bare = std::min(best_bare, std::chrono::duration<double>(t2 - t1).count());
  }
  if (sink != 2 * iterations * rounds) {
    std::fprintf(stderr, "verification failed during the benchmark\n");
    return 1;
  }
  double verify_rate = iterations / best_verify, bare_rate = iterations / best_bare;
  std::printf("token: %zu bytes; %d iterations x %d rounds, best round each, one thread\n",
              token.size(), iterations, rounds);
  std::printf("  TokenFactory::Verify            %10.0f tokens/s  (%.2f us each)\n", verify_rate,
              1e6 / verify_rate);
  std::printf("  crypto_sign_verify_detached     %10.0f checks/s  (%.2f us each)\n", bare_rate,
              1e6 / bare_rate);
  std::printf("  cost ratio Verify / bare        %10.3f  (goal <= 1.15)\n",
              best_verify / best_bare);
  return 0;
}

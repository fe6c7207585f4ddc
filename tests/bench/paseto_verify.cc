// Benchmark: TokenFactory::Verify of a typical bearer token (one thread) next to the bare
// crypto_sign_verify_detached over the same signed bytes, in the same run. Rounds alternate
// between the three loops and the best round of each counts, so a noisy neighbour hurts all alike.
//   full:     the first use of a token: everything, signature included (each iteration verifies a
//             token not seen before, by a factory whose memo starts empty each round).
//   memoized: a token used before, answered from the memo (hash, lookup, time checks).
//   bare:     crypto_sign_verify_detached alone.
// Goals: full Verify costs at most 15% more than the bare check (issue 3); memoized Verify is a
// small fraction of it.
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "auth/token_factory.h"
#include "crypto/base64url.h"
#include "crypto/pae.h"

using namespace tessera;
using Clock = std::chrono::steady_clock;

namespace {
auth::TokenRequest Request(int i) {
  char jti[33];
  std::snprintf(jti, sizeof jti, "3f2a9c0e5b7d4e18a6c1b2d3%08x", static_cast<unsigned>(i));
  return {"alice@pbs", {true, true, false}, "alice/laptop", std::chrono::hours(24 * 30), jti};
}

// The loops are functions of their own (not inlined) so a callgrind profile can name them.
[[gnu::noinline]] int RunFull(const auth::TokenFactory& factory,
                              const std::vector<std::string>& tokens) {
  int ok = 0;
  for (const std::string& token : tokens) ok += factory.Verify(token).has_value();
  return ok;
}

[[gnu::noinline]] int RunMemoized(const auth::TokenFactory& factory, const std::string& token,
                                  int iterations) {
  int ok = 0;
  for (int i = 0; i < iterations; ++i) ok += factory.Verify(token).has_value();
  return ok;
}

[[gnu::noinline]] int RunBare(const unsigned char* sig, const std::string& m2,
                              const crypto::PublicKey& pub, int iterations) {
  int ok = 0;
  for (int i = 0; i < iterations; ++i) {
    ok += crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(m2.data()),
                                      m2.size(), pub.bytes().data()) == 0;
  }
  return ok;
}

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  if (iterations < 1 || rounds < 1) return 2;

  clock::SystemClock clock;
  crypto::SecretKey key = crypto::SecretKey::Generate();
  crypto::PublicKey pub = key.Public();
  auto ring = std::make_shared<crypto::Keyring>(std::move(key));
  const std::string server = "backup.example.org";
  auth::TokenFactory minter(server, ring, clock);
  // Distinct tokens of one size (they differ in the jti only), so each full Verify is a first use.
  std::vector<std::string> tokens;
  for (int i = 0; i < iterations; ++i) tokens.push_back(*minter.Create(Request(i)));
  const std::string& token = tokens.front();

  // The exact bytes Verify hands to Ed25519: PAE(header, message, footer, "") and the signature.
  std::size_t dot = token.rfind('.');
  auto body = *crypto::Base64Decode(std::string_view(token).substr(10, dot - 10), 8192);
  auto footer = *crypto::Base64Decode(std::string_view(token).substr(dot + 1), 8192);
  std::string_view message(reinterpret_cast<const char*>(body.data()), body.size() - 64);
  std::string m2 = crypto::Pae(
      {"v4.public.", message,
       std::string_view(reinterpret_cast<const char*>(footer.data()), footer.size()), ""});
  const unsigned char* sig = body.data() + body.size() - 64;

  auth::TokenFactory warm(server, ring, clock);
  int sink = warm.Verify(token).has_value();  // remembered from here on
  double best_full = 1e30, best_memo = 1e30, best_bare = 1e30;
  for (int r = 0; r < rounds; ++r) {
    auth::TokenFactory cold(server, ring, clock);  // an empty memo each round
    auto t0 = Clock::now();
    sink += RunFull(cold, tokens);
    auto t1 = Clock::now();
    sink += RunMemoized(warm, token, iterations);
    auto t2 = Clock::now();
    sink += RunBare(sig, m2, pub, iterations);
    auto t3 = Clock::now();
    best_full = std::min(best_full, Seconds(t0, t1));
    best_memo = std::min(best_memo, Seconds(t1, t2));
    best_bare = std::min(best_bare, Seconds(t2, t3));
  }
  if (sink != 1 + 3 * iterations * rounds ||
      warm.memo_hits() != static_cast<std::uint64_t>(iterations) * rounds) {
    std::fprintf(stderr, "verification failed during the benchmark\n");
    return 1;
  }
  double full_rate = iterations / best_full, memo_rate = iterations / best_memo,
         bare_rate = iterations / best_bare;
  std::printf("token: %zu bytes; %d iterations x %d rounds, best round each, one thread\n",
              token.size(), iterations, rounds);
  std::printf("  TokenFactory::Verify, first use %10.0f tokens/s  (%.2f us each)\n", full_rate,
              1e6 / full_rate);
  std::printf("  TokenFactory::Verify, memoized  %10.0f tokens/s  (%.2f us each)\n", memo_rate,
              1e6 / memo_rate);
  std::printf("  crypto_sign_verify_detached     %10.0f checks/s  (%.2f us each)\n", bare_rate,
              1e6 / bare_rate);
  std::printf("  cost ratio first use / bare     %10.3f  (goal <= 1.15)\n", best_full / best_bare);
  std::printf("  cost ratio memoized / first use %10.4f  (%.0fx faster)\n", best_memo / best_full,
              best_full / best_memo);
  return 0;
}

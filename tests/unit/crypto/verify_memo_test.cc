#include "crypto/verify_memo.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using tessera::crypto::VerifyMemo;

namespace {
std::string Credential(int i) { return "v4.public.credential-" + std::to_string(i); }
}  // namespace

TEST_CASE("verify memo: a miss, then a hit with what was stored") {
  VerifyMemo<int> memo(64);
  CHECK_FALSE(memo.Find("token-a").has_value());
  CHECK(memo.misses() == 1);
  memo.Insert("token-a", 7);
  CHECK(memo.Find("token-a") == 7);
  CHECK(memo.hits() == 1);
  memo.Insert("token-a", 8);  // replaces
  CHECK(memo.Find("token-a") == 8);
  CHECK(memo.size() == 1);
}

TEST_CASE("verify memo: bytes that differ anywhere never hit") {
  VerifyMemo<int> memo(64);
  std::string good = Credential(1);
  memo.Insert(good, 1);
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] ^= 0x01;
    INFO(i);
    CHECK_FALSE(memo.Find(flipped).has_value());
  }
  CHECK_FALSE(memo.Find(good.substr(0, good.size() - 1)).has_value());
  CHECK_FALSE(memo.Find(good + "x").has_value());
  CHECK_FALSE(memo.Find("").has_value());
  CHECK(memo.Find(good) == 1);
}

TEST_CASE("verify memo: two memos digest the same bytes differently") {
  // Each memo has its own hash key, so only equal keys would make equal digests.
  tessera::crypto::MemoHasher a, b;
  CHECK(a.Digest("same") == a.Digest("same"));
  CHECK(a.Digest("same") != b.Digest("same"));
}

TEST_CASE("verify memo: never more than two generations of entries") {
  constexpr std::size_t kPerGeneration = 256;
  VerifyMemo<int> memo(kPerGeneration);
  CHECK(memo.capacity() == 2 * kPerGeneration);
  for (int i = 0; i < static_cast<int>(10 * kPerGeneration); ++i) {
    memo.Insert(Credential(i), i);
    REQUIRE(memo.size() <= memo.capacity());
  }
  // The newest entries are still there.
  CHECK(memo.Find(Credential(10 * kPerGeneration - 1)) ==
        static_cast<int>(10 * kPerGeneration - 1));
  // A capacity smaller than the shard count still holds something.
  VerifyMemo<int> tiny(1);
  tiny.Insert("x", 1);
  CHECK(tiny.Find("x") == 1);
}

TEST_CASE("verify memo: a hit in the previous generation is promoted and survives") {
  // One entry per shard and generation: a second entry in the same shard turns generations over.
  VerifyMemo<int> memo(VerifyMemo<int>::kShards);
  memo.Insert("kept", 1);
  // Keep inserting, looking "kept" up after each insert: every time it has fallen into the
  // previous generation the lookup promotes it, so it is never dropped.
  for (int i = 0; i < 2000; ++i) {
    memo.Insert(Credential(i), i);
    REQUIRE(memo.Find("kept") == 1);
  }
  // Without lookups, an entry is gone after enough inserts.
  memo.Insert("idle", 2);
  for (int i = 2000; i < 4000; ++i) memo.Insert(Credential(i), i);
  CHECK_FALSE(memo.Find("idle").has_value());
  CHECK(memo.size() <= memo.capacity());
}

TEST_CASE("verify memo: concurrent use from several threads gives consistent answers") {
  constexpr int kThreads = 4;
  constexpr int kKeys = 500;
  VerifyMemo<int> memo(128);  // smaller than the key set, so generations turn over under load
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&memo, &wrong, t] {
      for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < kKeys; ++i) {
          std::string c = Credential(i);
          auto found = memo.Find(c);
          if (found && *found != i) ++wrong[t];  // a value stored for other bytes
          if (!found) memo.Insert(c, i);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) CHECK(wrong[t] == 0);
  CHECK(memo.size() <= memo.capacity());
  CHECK(memo.hits() + memo.misses() == std::uint64_t{kThreads} * 20 * kKeys);
}

TEST_CASE("verify memo: one client's stream of new credentials never evicts one in steady use") {
  // The worker's size (4096 a generation). One account presenting 200,000 credentials it never
  // uses again — far more than it can mint (DESIGN.md, "Bearer tokens") — while three other
  // accounts each present theirs once per 2,000 of them, as a restic run does many times a
  // second: theirs are found every time.
  VerifyMemo<int> memo(4096);
  for (int v = 0; v < 3; ++v) memo.Insert("victim-" + std::to_string(v), v);
  for (int i = 0; i < 200000; ++i) {
    memo.Insert(Credential(i), i);
    if (i % 2000 == 1999) {
      for (int v = 0; v < 3; ++v) REQUIRE(memo.Find("victim-" + std::to_string(v)) == v);
    }
    REQUIRE(memo.size() <= memo.capacity());
  }
  CHECK(memo.misses() == 0);
  // An idle one lasts until its shard has turned over twice: at least one generation's worth of
  // others' inserts on average (4096), never fewer than a shard's (256).
  memo.Insert("idle", 1);
  for (int i = 0; i < 256; ++i) memo.Insert(Credential(300000 + i), i);
  CHECK(memo.Find("idle") == 1);
}

#include "auth/recent_map.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using tessera::auth::RecentMap;

namespace {
std::string Key(int i) { return "grant-" + std::to_string(i) + "-with-a-name-longer-than-sso"; }
}  // namespace

TEST_CASE("recent map: put, find, replace, erase") {
  RecentMap<int> map(8);
  CHECK(map.Find("a") == nullptr);
  map.Put("a", 1);
  REQUIRE(map.Find("a") != nullptr);
  CHECK(*map.Find("a") == 1);
  map.Put("a", 2);  // replaces
  CHECK(*map.Find("a") == 2);
  CHECK(map.size() == 1);
  CHECK(map.Erase("a"));
  CHECK_FALSE(map.Erase("a"));
  CHECK(map.Find("a") == nullptr);
  CHECK(map.size() == 0);
}

TEST_CASE("recent map: never holds more than its capacity") {
  RecentMap<int> map(100);
  for (int i = 0; i < 10000; ++i) {
    map.Put(Key(i), i);
    if (i % 3 == 0) (void)map.Find(Key(i / 2));  // some marked, some not
    REQUIRE(map.size() <= 100);
  }
  CHECK(map.size() == 100);
  // The newest is there, and what it holds is right.
  REQUIRE(map.Find(Key(9999)) != nullptr);
  CHECK(*map.Find(Key(9999)) == 9999);
  // A capacity of 0 holds one entry.
  RecentMap<int> tiny(0);
  tiny.Put("a", 1);
  tiny.Put("b", 2);
  CHECK(tiny.size() == 1);
  CHECK(tiny.Find("b") != nullptr);
}

TEST_CASE("recent map: entries in use survive, entries not used again go first") {
  RecentMap<int> map(4);
  for (int i = 0; i < 4; ++i) map.Put(Key(i), i);
  REQUIRE(map.Find(Key(0)) != nullptr);
  REQUIRE(map.Find(Key(2)) != nullptr);
  map.Put(Key(4), 4);
  map.Put(Key(5), 5);
  CHECK(map.Find(Key(0)) != nullptr);
  CHECK(map.Find(Key(2)) != nullptr);
  CHECK(map.Find(Key(1)) == nullptr);
  CHECK(map.Find(Key(3)) == nullptr);
  CHECK(map.size() == 4);

  // A working set that fits stays whole however many one-off keys pass through.
  RecentMap<int> busy(64);
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 16; ++i) {
      if (busy.Find(Key(i)) == nullptr) busy.Put(Key(i), i);
    }
    for (int i = 0; i < 40; ++i) busy.Put(Key(1000 + round * 40 + i), -1);
  }
  for (int i = 0; i < 16; ++i) {
    INFO(i);
    REQUIRE(busy.Find(Key(i)) != nullptr);
    CHECK(*busy.Find(Key(i)) == i);
  }
}

TEST_CASE("recent map: an erased key's place is taken before anything is evicted") {
  RecentMap<int> map(3);
  map.Put("a", 1);
  map.Put("b", 2);
  map.Put("c", 3);
  CHECK(map.Erase("b"));
  map.Put("d", 4);
  CHECK(map.Find("a") != nullptr);
  CHECK(map.Find("c") != nullptr);
  CHECK(map.Find("d") != nullptr);
  CHECK(map.size() == 3);
}

TEST_CASE("recent map: clear forgets everything, and the map fills again") {
  RecentMap<int> map(16);
  for (int i = 0; i < 40; ++i) map.Put(Key(i), i);
  map.Clear();
  CHECK(map.size() == 0);
  for (int i = 0; i < 40; ++i) CHECK(map.Find(Key(i)) == nullptr);
  for (int i = 0; i < 40; ++i) map.Put(Key(i), i);
  CHECK(map.size() == 16);
  CHECK(*map.Find(Key(39)) == 39);
}

TEST_CASE("recent map: many threads find at once") {
  RecentMap<int> map(256);
  for (int i = 0; i < 256; ++i) map.Put(Key(i), i);
  std::vector<std::thread> readers;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int n = 0; n < 20000; ++n) {
        const int* v = map.Find(Key(n % 256));
        if (v == nullptr || *v != n % 256) ++wrong[t];
      }
    });
  }
  for (auto& r : readers) r.join();
  for (int w : wrong) CHECK(w == 0);
}

TEST_CASE("recent map: a partition at its share replaces its own oldest, never another's") {
  RecentMap<int> map(100, 10);
  // b's entries are put once and never used again: CLOCK alone would let them go first.
  for (int i = 0; i < 5; ++i) map.Put("b" + Key(i), i, "b@pbs");
  for (int i = 0; i < 10000; ++i) {
    map.Put(Key(i), i, "a@pbs");
    REQUIRE(map.held("a@pbs") <= 10);
  }
  CHECK(map.held("a@pbs") == 10);
  CHECK(map.held("b@pbs") == 5);
  CHECK(map.size() == 15);
  for (int i = 0; i < 5; ++i) CHECK(map.Find("b" + Key(i)) != nullptr);
  // a's newest ten are held, in use or not; its older ones went first.
  for (int i = 9990; i < 10000; ++i) CHECK(map.Find(Key(i)) != nullptr);
  CHECK(map.Find(Key(9989)) == nullptr);
  // A replaced key keeps its partition; an erased one leaves it.
  map.Put(Key(9995), 0, "b@pbs");
  CHECK(map.held("a@pbs") == 10);
  CHECK(map.Erase(Key(9995)));
  CHECK(map.held("a@pbs") == 9);
  map.Put(Key(20000), 1, "a@pbs");
  map.Put(Key(20001), 1, "a@pbs");
  CHECK(map.held("a@pbs") == 10);
  CHECK(map.Find(Key(9990)) == nullptr);  // its oldest made room for the second
  map.Clear();
  CHECK(map.held("a@pbs") == 0);
  CHECK(map.held("b@pbs") == 0);
}

TEST_CASE("recent map: shares and capacity hold together whatever the mix") {
  // Entries with and without partitions, evicted by the hand, by a share and erased, at random.
  RecentMap<int> map(64, 8);
  std::uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u; };
  for (int i = 0; i < 20000; ++i) {
    std::uint32_t r = next();
    std::string partition = r % 5 == 0 ? "" : "p" + std::to_string(r % 23);
    std::string key = Key(static_cast<int>(next() % 500));
    if (r % 7 == 0) {
      (void)map.Erase(key);
    } else {
      map.Put(key, i, partition);
    }
    if (r % 3 == 0) (void)map.Find(Key(static_cast<int>(next() % 500)));
    REQUIRE(map.size() <= 64);
    std::size_t in_partitions = 0;
    for (int p = 0; p < 23; ++p) {
      std::size_t held = map.held("p" + std::to_string(p));
      REQUIRE(held <= 8);
      in_partitions += held;
    }
    REQUIRE(in_partitions <= map.size());
  }
}

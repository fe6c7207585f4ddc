// A verify memo: remembers what verifying a credential (a bearer token, a ticket) produced, so a
// client that presents the same credential on every request pays the signature check once.
//
// The memo never holds the credential itself. Its key is BLAKE2b-256 of the credential's bytes,
// keyed with 32 random bytes made for each memo (crypto_generichash, randombytes_buf), so the
// memo neither stores the text nor lets anyone who knows a credential predict where it lands; the
// hash key is wiped when the memo goes. A different byte anywhere gives a different digest, so a
// tampered credential never finds the entry of the genuine one.
//
// What goes in is the caller's decision: callers store only credentials that verified, so a
// stranger cannot fill the memo with junk, and callers re-check everything time-dependent on a hit
// (the memo has no notion of time).
//
// Bound: two generations of at most `per_generation` entries each (rounded up to a multiple of the
// shard count). When the current generation is full it becomes the previous one and the old
// previous one is dropped; a hit in the previous generation moves the entry into the current one,
// so credentials in steady use survive and idle ones fall out. At most capacity() entries,
// 2 × per_generation, are held at any time.
//
// Thread-safe: 16 shards chosen by the digest's first byte, each with its own mutex, so worker
// threads rarely wait on each other. Hit and miss counters are kept per shard, under its lock, and
// are monotonic.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "crypto/secret_bytes.h"

namespace tessera::crypto {

// The memo's key: keyed BLAKE2b-256 of a credential.
using MemoDigest = std::array<std::uint8_t, crypto_generichash_BYTES>;

// Digests credentials with a random key of its own; the key is a SecretBytes, so sodium_memzero
// wipes it when the hasher goes. Thread-safe:
// immutable after construction. Needs sodium_init() to have run.
class MemoHasher {
 public:
  MemoHasher();
  MemoDigest Digest(std::string_view credential) const;

 private:
  SecretBytes key_;
};

template <typename Value>
class VerifyMemo {
 public:
  static constexpr std::size_t kShards = 16;

  explicit VerifyMemo(std::size_t per_generation)
      : per_shard_(std::max<std::size_t>(1, (per_generation + kShards - 1) / kShards)) {}
  VerifyMemo(const VerifyMemo&) = delete;
  VerifyMemo& operator=(const VerifyMemo&) = delete;

  // The memo's key for a credential. A caller that may Insert() after a missed Find() digests
  // once and passes the key to both.
  MemoDigest Key(std::string_view credential) const { return hasher_.Digest(credential); }

  // What Insert() stored for exactly these bytes, or nullopt. Counts a hit or a miss.
  std::optional<Value> Find(std::string_view credential) { return Find(Key(credential)); }
  std::optional<Value> Find(const MemoDigest& digest) {
    Shard& shard = ShardOf(digest);
    std::optional<Value> found;
    {
      std::lock_guard lock(shard.mutex);
      if (auto it = shard.current.find(digest); it != shard.current.end()) {
        found = it->second;
      } else if (auto old = shard.previous.find(digest); old != shard.previous.end()) {
        found = old->second;
        auto node = shard.previous.extract(old);
        Place(shard, std::move(node.key()), std::move(node.mapped()));
      }
      // Counted under the shard's lock, held anyway: no line shared by every thread.
      ++(found ? shard.hits : shard.misses);
    }
    return found;
  }

  // Remembers `value` for these bytes (replacing what was there).
  void Insert(std::string_view credential, Value value) {
    Insert(Key(credential), std::move(value));
  }
  void Insert(const MemoDigest& digest, Value value) {
    Shard& shard = ShardOf(digest);
    std::lock_guard lock(shard.mutex);
    shard.previous.erase(digest);
    if (auto it = shard.current.find(digest); it != shard.current.end()) {
      it->second = std::move(value);
      return;
    }
    Place(shard, digest, std::move(value));
  }

  // Entries held now (takes every shard's lock in turn; for tests and metrics).
  std::size_t size() const {
    std::size_t n = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      n += shard.current.size() + shard.previous.size();
    }
    return n;
  }
  // The most entries ever held: two generations.
  std::size_t capacity() const { return 2 * kShards * per_shard_; }
  // Finds that found something, and that did not (every shard's lock in turn, as size()).
  std::uint64_t hits() const { return Sum(&Shard::hits); }
  std::uint64_t misses() const { return Sum(&Shard::misses); }

 private:
  // The digest is already uniformly random (keyed hash), so any 8 of its bytes make a fine hash.
  struct DigestHash {
    std::size_t operator()(const MemoDigest& d) const {
      std::size_t h;
      std::memcpy(&h, d.data() + 1, sizeof h);
      return h;
    }
  };
  using Generation = std::unordered_map<MemoDigest, Value, DigestHash>;
  struct Shard {
    mutable std::mutex mutex;
    Generation current, previous;
    std::uint64_t hits = 0, misses = 0;
  };

  std::uint64_t Sum(std::uint64_t Shard::* counter) const {
    std::uint64_t n = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      n += shard.*counter;
    }
    return n;
  }

  Shard& ShardOf(const MemoDigest& digest) { return shards_[digest[0] % kShards]; }

  // Adds an entry that is in neither generation, turning generations over first when full.
  // Called with the shard's lock held.
  void Place(Shard& shard, MemoDigest digest, Value value) {
    if (shard.current.size() >= per_shard_) {
      shard.previous = std::move(shard.current);
      shard.current = Generation();
    }
    shard.current.emplace(digest, std::move(value));
  }

  MemoHasher hasher_;
  const std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tessera::crypto

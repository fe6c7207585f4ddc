// A bounded map from text keys to values that keeps the entries in use and lets the others go:
// the session cache's store of accounts and grants (auth/session_cache.h), so that a worker's
// memory does not grow with the number of rows in PostgreSQL.
//
// Eviction is CLOCK ("second chance"): each entry has a mark that Find() sets. When the map is
// full and a new key comes in, a hand sweeps the entries in a circle, clearing marks, and the
// first entry it finds unmarked (not used since the hand last passed it) makes room. An entry
// used again and again is never the one taken; an entry put in and never used again is the first
// to go. Find() only sets a mark (an atomic), so many threads may look up at once under a shared
// lock; Put(), Erase() and Clear() need the map to themselves.
//
// A fair share: an entry may be put with a partition (the account it belongs to), and each
// partition holds at most `per_partition` entries. A new key of a partition at its share takes
// the place of that partition's oldest entry (the one put first), never another's: one account
// cycling through thousands of grants turns over its own entries and leaves the hand, and so
// every other account's entries, where they were. Entries put without a partition share only
// the capacity.
//
// At most capacity() entries are held at any time. Not thread-safe beyond that: the owner locks.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera::auth {

template <typename Value>
class RecentMap {
 public:
  // Holds at most `capacity` entries (at least one), at most `per_partition` (at least one) of
  // any one partition.
  explicit RecentMap(std::size_t capacity, std::size_t per_partition = SIZE_MAX)
      : capacity_(std::max<std::size_t>(1, capacity)),
        per_partition_(std::max<std::size_t>(1, per_partition)) {}
  RecentMap(const RecentMap&) = delete;
  RecentMap& operator=(const RecentMap&) = delete;

  // The value held for `key`, now marked as used; nullptr when there is none. The pointer is good
  // until the next Put(), Erase() or Clear(). Calls of Find() may run at once in many threads.
  const Value* Find(std::string_view key) const {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    const Slot& slot = slots_[it->second];
    // Written only when it changes: a hot entry's line is not bounced between cores.
    if (!slot.used.load(std::memory_order_relaxed))
      slot.used.store(true, std::memory_order_relaxed);
    return &slot.value;
  }

  // Holds `value` for `key`, replacing what was held for it (a held key keeps its partition). A
  // new key of a `partition` (empty: none) at its share takes the place of that partition's
  // oldest entry; else a new key in a full map takes the place of the entry the hand finds
  // unmarked first.
  void Put(std::string_view key, Value value, std::string_view partition = {}) {
    if (auto it = index_.find(key); it != index_.end()) {
      slots_[it->second].value = std::move(value);
      return;
    }
    std::uint32_t at = kNone;
    if (!partition.empty()) {
      if (auto part = partitions_.find(partition);
          part != partitions_.end() && part->second.count >= per_partition_) {
        at = part->second.head;
        index_.erase(std::string_view(slots_[at].key));
        Unlink(at);
      }
    }
    if (at == kNone) at = TakeSlot();
    Slot& slot = slots_[at];
    slot.key.assign(key);
    slot.value = std::move(value);
    slot.used.store(false, std::memory_order_relaxed);
    if (!partition.empty()) Link(at, partition);
    // The index's key views the slot's own string, which stays put until the slot is reused
    // (a deque never moves its elements when it grows at the end).
    index_.emplace(std::string_view(slot.key), at);
  }

  // Forgets `key`. Returns whether it was held.
  bool Erase(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    std::uint32_t at = it->second;
    index_.erase(it);
    Unlink(at);
    Slot& slot = slots_[at];
    slot.key = std::string();
    slot.value = Value();
    free_.push_back(at);
    return true;
  }

  // Forgets everything and gives the memory back.
  void Clear() {
    index_ = Index();
    slots_ = std::deque<Slot>();
    free_ = std::vector<std::uint32_t>();
    partitions_ = Partitions();
    hand_ = 0;
  }

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::size_t per_partition() const { return per_partition_; }
  // Entries held for `partition`.
  std::size_t held(std::string_view partition) const {
    auto it = partitions_.find(partition);
    return it == partitions_.end() ? 0 : it->second.count;
  }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  struct Slot {
    std::string key;  // empty while the slot is free
    Value value{};
    mutable std::atomic<bool> used{false};
    // The partition's entries in the order they were put: a list through their slots.
    std::string partition;  // empty: none
    std::uint32_t older = kNone, newer = kNone;
  };
  using Index = std::unordered_map<std::string_view, std::uint32_t>;
  struct Partition {
    std::uint32_t head = kNone, tail = kNone;  // oldest, newest
    std::size_t count = 0;
  };
  // Transparent, so that a string_view finds a partition without a copy.
  struct PartitionHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Partitions = std::unordered_map<std::string, Partition, PartitionHash, std::equal_to<>>;

  // Appends slot `at` to `partition`'s entries as its newest.
  void Link(std::uint32_t at, std::string_view partition) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end())
      it = partitions_.emplace(std::string(partition), Partition{}).first;
    Partition& part = it->second;
    Slot& slot = slots_[at];
    slot.partition.assign(partition);
    slot.older = part.tail;
    slot.newer = kNone;
    if (part.tail != kNone) slots_[part.tail].newer = at;
    if (part.head == kNone) part.head = at;
    part.tail = at;
    ++part.count;
  }

  // Takes slot `at` out of its partition's entries (if it has one); a partition left empty goes.
  void Unlink(std::uint32_t at) {
    Slot& slot = slots_[at];
    if (slot.partition.empty()) return;
    auto it = partitions_.find(std::string_view(slot.partition));
    Partition& part = it->second;
    if (slot.older != kNone)
      slots_[slot.older].newer = slot.newer;
    else
      part.head = slot.newer;
    if (slot.newer != kNone)
      slots_[slot.newer].older = slot.older;
    else
      part.tail = slot.older;
    if (--part.count == 0) partitions_.erase(it);
    slot.partition = std::string();
    slot.older = slot.newer = kNone;
  }

  // A slot for a new key: a free one, a new one while below capacity, else the hand's victim.
  std::uint32_t TakeSlot() {
    if (!free_.empty()) {
      std::uint32_t at = free_.back();
      free_.pop_back();
      return at;
    }
    if (slots_.size() < capacity_) {
      slots_.emplace_back();
      return static_cast<std::uint32_t>(slots_.size() - 1);
    }
    // No slot is free, so every slot holds a key. One turn clears every mark, so this ends within
    // two turns.
    for (;;) {
      std::uint32_t at = static_cast<std::uint32_t>(hand_);
      hand_ = (hand_ + 1) % slots_.size();
      Slot& slot = slots_[at];
      if (slot.used.exchange(false, std::memory_order_relaxed)) continue;
      index_.erase(std::string_view(slot.key));
      Unlink(at);
      return at;
    }
  }

  const std::size_t capacity_;
  const std::size_t per_partition_;
  std::deque<Slot> slots_;
  Index index_;
  std::vector<std::uint32_t> free_;  // slots of erased keys
  Partitions partitions_;            // only partitions that hold an entry
  std::size_t hand_ = 0;
};

}  // namespace tessera::auth

// Counters and histograms that request threads bump without waiting for each other, summed only
// when /metrics is scraped.
//
// A Registry holds groups of series declared before any thread records: a counter group (one or
// more counters sharing label names, e.g. the six tessera_blob_* counters of one account,
// repository and type) or a histogram (fixed bucket bounds). Each recording thread gets a shard
// of its own (created on its first record, handed on to the next thread when it exits), so a
// record takes only that shard's mutex, which nobody else takes but a scrape: counting costs a
// hash lookup and an uncontended lock, whatever the number of threads. Render() visits every
// shard and writes the sums (metrics/text_format.h).
//
// Cardinality is bounded: a group admits at most `max_series` distinct label sets over the
// process's life. Past that, a new label set is folded into an "other" series, in which every
// label that is not `bounded` (an account or repository name, a route) reads "other" and the
// bounded ones (an object type, a status) keep their value; it is still counted, never dropped.
// So a flood of accounts or repositories cannot grow the worker's memory or a scrape without
// end.
//
// A group may also be shared fairly among the values of one label, its partition (the account):
// then each value admits at most `per_partition` label sets and the group at most
// `max_partitions` values. Past its share, a value's new label sets fold into its own "other"
// series (every unbounded label but the partition reads "other"), so one account with hundreds
// of repositories never hides another account's series. Once `max_series` is reached, every
// value's new label sets fold into its own "other" too; only a value that arrives after
// `max_partitions` others folds into the group's common "other". Folded series are not counted
// against `max_series`: there are at most (max_partitions + 1) times the bounded labels' values of
// them. Recording a folded label set takes a process-wide lock (the fold is decided anew each time,
// so that shards never remember label sets that were not admitted).
//
// Thread-safe, except Add*() groups, which must all be declared before the first record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "metrics/text_format.h"

namespace tessera::metrics {

// What every non-bounded label reads in a folded series.
inline constexpr std::string_view kOther = "other";

struct Label {
  std::string name;
  // Whether the label takes few values by construction (an enum, a status code, an object
  // type): it keeps its value in a folded series. A name (account, repository) is not bounded.
  bool bounded = false;
};

struct CounterSpec {
  std::string name;  // e.g. tessera_blob_read_total
  std::string help;
};

// How a group shares its label sets among the values of one label (see above).
struct Partition {
  std::size_t label = 0;           // index of the partition label (an unbounded one)
  std::size_t per_partition = 0;   // label sets admitted per value of it
  std::size_t max_partitions = 0;  // values of it kept apart
};

// A group of series, as Add*() returned it.
struct Group {
  std::size_t index = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares counters that share `labels`; each label set holds one value per counter. Call
  // before any thread records.
  Group AddCounters(std::vector<CounterSpec> counters, std::vector<Label> labels,
                    std::size_t max_series);
  // Same, with the label sets shared fairly among the values of `partition.label`.
  Group AddCounters(std::vector<CounterSpec> counters, std::vector<Label> labels,
                    std::size_t max_series, Partition partition);
  // Declares a histogram with `bounds` (ascending upper bounds of its buckets; +Inf is implied).
  // Call before any thread records.
  Group AddHistogram(CounterSpec histogram, std::vector<Label> labels, std::vector<double> bounds,
                     std::size_t max_series);

  // Adds `amounts` to the counters of `group` starting at counter `first` (in declaration
  // order), in the series of `values` (one per label, in declaration order). Thread-safe.
  void Add(Group group, std::initializer_list<std::string_view> values, std::size_t first,
           std::initializer_list<std::uint64_t> amounts);
  // Records one observation of `value` in histogram `group`. Thread-safe.
  void Observe(Group group, std::initializer_list<std::string_view> values, double value);

  // Writes every group, families in declaration order and series sorted by label values.
  // Thread-safe; waits for each shard in turn, never for all at once.
  void Render(TextWriter& out) const;

 private:
  struct Spec;
  struct Cell;
  struct Shard;
  // `key` when the group admits it (it did before, or it has room), else the key of its folded
  // series. Takes mutex_.
  std::string Admit(std::size_t group, const std::string& key,
                    std::span<const std::string_view> values);
  // This thread's shard, made or taken over from a thread that ended on first use.
  Shard& ThisThreadShard();
  // Runs `update` on the cell of `values` in this thread's shard, under the shard's lock.
  template <typename F>
  void Update(Group group, std::span<const std::string_view> values, F update);

  const std::uint64_t id_;  // never reused, so a thread's cache cannot mistake a newer registry
  std::vector<Spec> specs_;
  mutable std::mutex mutex_;  // guards shards_ and the admitted sets in specs_
  std::vector<std::shared_ptr<Shard>> shards_;
};

}  // namespace tessera::metrics

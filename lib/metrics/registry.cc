#include "metrics/registry.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "metrics/series_key.h"

namespace tessera::metrics {
namespace {

std::atomic<std::uint64_t> next_registry_id{1};

}  // namespace

struct Registry::Spec {
  std::vector<CounterSpec> counters;  // a counter group: one per counter; a histogram: its name
  std::vector<Label> labels;
  std::vector<double> bounds;  // a histogram's bucket bounds; empty for counters
  bool histogram = false;
  std::size_t max_series = 0;
  std::optional<Partition> partition;
  std::unordered_set<std::string> admitted;  // guarded by the registry's mutex_
  // Label sets admitted per partition value; guarded by the registry's mutex_.
  std::unordered_map<std::string, std::size_t> per_partition;
};

// One label set's values: the counters of a counter group, or a histogram's bucket counts (the
// last one for +Inf, not cumulative) and the sum of its observations.
struct Registry::Cell {
  std::vector<std::uint64_t> counts;
  double sum = 0;
};

struct Registry::Shard {
  explicit Shard(std::size_t groups) : cells(groups) {}
  std::mutex mutex;  // the owning thread's, and a scrape's while it reads
  std::vector<std::unordered_map<std::string, Cell>> cells;  // per group, by EncodeSeriesKey()
  std::atomic<bool> in_use{true};  // cleared when its thread exits, so another takes it over
};

Registry::Registry() : id_(next_registry_id.fetch_add(1)) {}
Registry::~Registry() = default;

Group Registry::AddCounters(std::vector<CounterSpec> counters, std::vector<Label> labels,
                            std::size_t max_series) {
  if (counters.empty()) throw std::invalid_argument("a counter group needs a counter");
  Spec spec;
  spec.counters = std::move(counters);
  spec.labels = std::move(labels);
  spec.max_series = max_series;
  specs_.push_back(std::move(spec));
  return Group{specs_.size() - 1};
}

Group Registry::AddCounters(std::vector<CounterSpec> counters, std::vector<Label> labels,
                            std::size_t max_series, Partition partition) {
  if (partition.label >= labels.size() || labels[partition.label].bounded)
    throw std::invalid_argument("a partition is one of the group's unbounded labels");
  Group group = AddCounters(std::move(counters), std::move(labels), max_series);
  specs_[group.index].partition = partition;
  return group;
}

Group Registry::AddHistogram(CounterSpec histogram, std::vector<Label> labels,
                             std::vector<double> bounds, std::size_t max_series) {
  if (!std::is_sorted(bounds.begin(), bounds.end()))
    throw std::invalid_argument("histogram bounds must ascend");
  Spec spec;
  spec.counters.push_back(std::move(histogram));
  spec.labels = std::move(labels);
  spec.bounds = std::move(bounds);
  spec.histogram = true;
  spec.max_series = max_series;
  specs_.push_back(std::move(spec));
  return Group{specs_.size() - 1};
}

std::string Registry::Admit(std::size_t group, const std::string& key,
                            std::span<const std::string_view> values) {
  std::lock_guard lock(mutex_);
  Spec& spec = specs_[group];
  if (spec.admitted.contains(key)) return key;
  // Every unbounded label reads "other", but the partition's when `keep_partition`.
  auto fold = [&](bool keep_partition) {
    std::vector<std::string_view> folded(values.begin(), values.end());
    for (std::size_t i = 0; i < folded.size(); ++i) {
      bool kept = keep_partition && spec.partition && i == spec.partition->label;
      if (!spec.labels[i].bounded && !kept) folded[i] = kOther;
    }
    return EncodeSeriesKey(folded);
  };
  if (!spec.partition) {
    if (spec.admitted.size() >= spec.max_series) return fold(false);
    spec.admitted.insert(key);
    return key;
  }
  // Shared fairly: a value seen before keeps its own series, folded or not; a new value needs
  // room for itself.
  std::string partition(values[spec.partition->label]);
  auto it = spec.per_partition.find(partition);
  if (it == spec.per_partition.end()) {
    if (spec.per_partition.size() >= spec.partition->max_partitions) return fold(false);
    it = spec.per_partition.emplace(std::move(partition), 0).first;
  }
  if (it->second >= spec.partition->per_partition || spec.admitted.size() >= spec.max_series)
    return fold(true);
  ++it->second;
  spec.admitted.insert(key);
  return key;
}

Registry::Shard& Registry::ThisThreadShard() {
  // A thread's shards, one per registry it recorded into. When the thread exits its shards are
  // marked free and the next new thread takes one over, counts and all: sums never go back, and
  // shards never outnumber the threads that ever ran at once.
  struct Held {
    std::vector<std::pair<std::uint64_t, std::shared_ptr<Shard>>> shards;
    ~Held() {
      for (auto& [id, shard] : shards) shard->in_use.store(false);
    }
  };
  thread_local Held held;
  for (auto& [id, shard] : held.shards) {
    if (id == id_) return *shard;
  }
  std::shared_ptr<Shard> mine;
  {
    std::lock_guard lock(mutex_);
    for (const auto& shard : shards_) {
      bool free = false;
      if (shard->in_use.compare_exchange_strong(free, true)) {
        mine = shard;
        break;
      }
    }
    if (!mine) {
      mine = std::make_shared<Shard>(specs_.size());
      shards_.push_back(mine);
    }
  }
  held.shards.emplace_back(id_, mine);
  return *mine;
}

template <typename F>
void Registry::Update(Group group, std::span<const std::string_view> values, F update) {
  const Spec& spec = specs_[group.index];
  if (values.size() != spec.labels.size())
    throw std::invalid_argument("wrong number of label values for " + spec.counters[0].name);
  Shard& shard = ThisThreadShard();
  std::string key = EncodeSeriesKey(values);
  std::lock_guard lock(shard.mutex);
  auto& cells = shard.cells[group.index];
  auto it = cells.find(key);
  if (it == cells.end()) {
    // A label set this shard has not seen: only the registry knows whether it is admitted.
    // Lock order: a shard's mutex, then the registry's (Render never holds both).
    std::string admitted = Admit(group.index, key, values);
    it = cells.find(admitted);
    if (it == cells.end()) {
      Cell cell;
      cell.counts.assign(spec.histogram ? spec.bounds.size() + 1 : spec.counters.size(), 0);
      it = cells.emplace(std::move(admitted), std::move(cell)).first;
    }
  }
  update(spec, it->second);
}

void Registry::Add(Group group, std::initializer_list<std::string_view> values, std::size_t first,
                   std::initializer_list<std::uint64_t> amounts) {
  Update(group, {values.begin(), values.size()}, [&](const Spec& spec, Cell& cell) {
    if (spec.histogram || first + amounts.size() > cell.counts.size())
      throw std::invalid_argument("no such counter in " + spec.counters[0].name);
    std::size_t i = first;
    for (std::uint64_t amount : amounts) cell.counts[i++] += amount;
  });
}

void Registry::Observe(Group group, std::initializer_list<std::string_view> values, double value) {
  Update(group, {values.begin(), values.size()}, [&](const Spec& spec, Cell& cell) {
    if (!spec.histogram) throw std::invalid_argument(spec.counters[0].name + " is no histogram");
    // The first bucket whose bound is >= value ("le"); past the last bound, +Inf.
    auto bucket = std::lower_bound(spec.bounds.begin(), spec.bounds.end(), value);
    ++cell.counts[static_cast<std::size_t>(bucket - spec.bounds.begin())];
    cell.sum += value;
  });
}

void Registry::Render(TextWriter& out) const {
  std::vector<std::shared_ptr<Shard>> shards;
  {
    std::lock_guard lock(mutex_);
    shards = shards_;
  }
  std::vector<std::map<std::string, Cell>> totals(specs_.size());
  for (const auto& shard : shards) {
    std::lock_guard lock(shard->mutex);
    for (std::size_t g = 0; g < specs_.size(); ++g) {
      for (const auto& [key, cell] : shard->cells[g]) {
        Cell& total = totals[g][key];
        if (total.counts.empty()) total.counts.assign(cell.counts.size(), 0);
        for (std::size_t i = 0; i < cell.counts.size(); ++i) total.counts[i] += cell.counts[i];
        total.sum += cell.sum;
      }
    }
  }
  for (std::size_t g = 0; g < specs_.size(); ++g) {
    const Spec& spec = specs_[g];
    std::vector<std::pair<std::vector<std::string>, const Cell*>> series;
    for (const auto& [key, cell] : totals[g]) {
      // Every key was made by EncodeSeriesKey, so this always decodes; were it not to, the
      // series is left out of the scrape rather than the scrape failing.
      if (auto values = DecodeSeriesKey(key)) series.emplace_back(std::move(*values), &cell);
    }
    auto labels_of = [&](const std::vector<std::string>& values) {
      Labels labels;
      for (std::size_t i = 0; i < values.size(); ++i)
        labels.emplace_back(spec.labels[i].name, values[i]);
      return labels;
    };
    if (!spec.histogram) {
      for (std::size_t c = 0; c < spec.counters.size(); ++c) {
        out.Family(spec.counters[c].name, "counter", spec.counters[c].help);
        for (const auto& [values, cell] : series)
          out.Sample(spec.counters[c].name, labels_of(values), cell->counts[c]);
      }
      continue;
    }
    const std::string& name = spec.counters[0].name;
    out.Family(name, "histogram", spec.counters[0].help);
    for (const auto& [values, cell] : series) {
      Labels labels = labels_of(values);
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= spec.bounds.size(); ++b) {
        cumulative += cell->counts[b];
        std::string le = b < spec.bounds.size() ? FormatValue(spec.bounds[b]) : "+Inf";
        Labels with_le = labels;
        with_le.emplace_back("le", le);
        out.Sample(name + "_bucket", with_le, cumulative);
      }
      out.Sample(name + "_sum", labels, cell->sum);
      out.Sample(name + "_count", labels, cumulative);
    }
  }
}

}  // namespace tessera::metrics

// The chaos run: see chaos.h. The faults are injected from the test's own thread, which also
// starts again what a fault stopped (the harness's children die with the thread that started
// them); each restic client runs on a thread of its own.
#include "chaos.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::chrono::milliseconds Millis(std::mt19937_64& rng, int from, int to) {
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(from, to)(rng));
}

// A directory removed when the run ends.
struct TempDir {
  explicit TempDir(const std::string& prefix) : path(MakeTempDir(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

// A tree of files whose bytes come from a seed: sizes spread from 256 B to 512 KiB (as many
// small files as large ones), in a few folders. Mutate() rewrites, removes and adds some, as a
// home directory changes between two backups.
class Tree {
 public:
  Tree(std::string root, std::uint64_t seed, std::size_t bytes)
      : root_(std::move(root)), rng_(seed) {
    for (std::size_t total = 0; total < bytes;) total += Add();
  }
  const std::string& root() const { return root_; }

  void Mutate() {
    std::bernoulli_distribution rewrite(0.15), remove(0.05);
    std::vector<std::string> kept;
    for (const std::string& file : files_) {
      if (remove(rng_)) {
        fs::remove(root_ + "/" + file);
        continue;
      }
      if (rewrite(rng_)) Write(file);
      kept.push_back(file);
    }
    files_ = std::move(kept);
    for (int n = std::uniform_int_distribution<int>(1, 6)(rng_); n > 0; --n) Add();
  }

 private:
  std::size_t Add() {
    std::string file = "d" + std::to_string(next_ % 4) + "/f" + std::to_string(next_);
    ++next_;
    files_.push_back(file);
    return Write(file);
  }
  std::size_t Write(const std::string& file) {
    std::uniform_real_distribution<double> log_size(std::log(256.0), std::log(512.0 * 1024));
    auto size = static_cast<std::size_t>(std::exp(log_size(rng_)));
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
      std::uint64_t word = rng_();
      std::memcpy(data.data() + i, &word, std::min<std::size_t>(8, size - i));
    }
    fs::create_directories(fs::path(root_ + "/" + file).parent_path());
    std::ofstream(root_ + "/" + file, std::ios::binary | std::ios::trunc) << data;
    return size;
  }

  std::string root_;
  std::mt19937_64 rng_;
  std::vector<std::string> files_;
  int next_ = 0;
};

// What restic's output says about its retries: "Save(<data/…>) returned error, retrying after
// 720ms: <why>", counted by why.
std::string RetryKind(const std::string& line) {
  for (const char* code : {"500", "502", "503", "504", "507", "429", "404", "403"})
    if (line.find(std::string(" ") + code + " ") != std::string::npos ||
        line.find(std::string(": ") + code) != std::string::npos)
      return std::string("HTTP ") + code;
  if (line.find("EOF") != std::string::npos) return "connection closed (EOF)";
  if (line.find("connection reset") != std::string::npos) return "connection reset";
  if (line.find("connection refused") != std::string::npos) return "connection refused";
  if (line.find("timeout") != std::string::npos) return "timeout";
  return "other";
}

// One restic client: its account, repository, tree, and the snapshots it keeps (by tag gN, with
// a copy of the tree each was made of).
class Client {
 public:
  Client(std::string name, std::string url, std::string dir, std::uint64_t seed,
         std::size_t tree_bytes, SteadyClock::time_point start)
      : start_(start),
        name_(std::move(name)),
        url_(std::move(url)),
        dir_(std::move(dir)),
        rng_(seed),
        tree_(dir_ + "/tree", seed ^ 0x9e3779b97f4a7c15ull, tree_bytes) {
    WriteFile(dir_ + "/pw", "chaos " + name_ + "\n");
    fs::create_directories(dir_ + "/gens");
  }

  const std::string& name() const { return name_; }

  bool Init() { return Restic("init", {"init"}).status == 0; }

  // Operations picked by the client's seed until `end`.
  void Loop(SteadyClock::time_point end) {
    Backup();
    std::discrete_distribution<int> pick({4, 2, 2, 2, 1});
    while (SteadyClock::now() < end) {
      switch (pick(rng_)) {
        case 0:
          Backup();
          break;
        case 1:
          Forget();
          break;
        case 2:
          Restic("prune", {"prune", "--max-unused", "0"});
          break;
        case 3:
          Restore(std::nullopt);
          break;
        default:
          Restic("check", {"check", "--read-data"});
          break;
      }
    }
  }

  // The final checks: check --read-data, and every kept snapshot restored and compared.
  void Final() {
    Refresh();
    Restic("final check", {"check", "--read-data"});
    for (int gen : std::set<int>(kept_)) Restore(gen);
  }

  struct Failure {
    std::string what;
    int status;
    std::string output;
    double at;  // seconds into the run
    // restic 0.14 sends its first request (HEAD of the config) before it wraps the backend in
    // its retries: a command that starts while the service answers 5xx stops at once.
    // The final checks run without faults: none of them may fail.
    bool at_open() const {
      return !what.starts_with("final") &&
             output.find("unable to open config file") != std::string::npos;
    }
  };
  std::map<std::string, int> ops;
  std::vector<Failure> failures;
  std::vector<std::string> mismatches;
  std::map<std::string, int> retries;
  std::vector<std::string> retry_lines;
  int restored = 0;

 private:
  // Whether the repository's config answers 200 through the web server (url_ is
  // rest:http://NAME:TOKEN@127.0.0.1:PORT/backup/REPO/).
  bool ConfigAnswers() const {
    std::string_view rest = std::string_view(url_).substr(std::string_view("rest:http://").size());
    std::size_t at = rest.find('@'), colon = rest.find(':'), slash = rest.find('/', at);
    std::string token(rest.substr(colon + 1, at - colon - 1));
    std::string_view host_port = rest.substr(at + 1, slash - at - 1);
    int port = std::stoi(std::string(host_port.substr(host_port.find(':') + 1)));
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(2, 0);
    c.set_bearer_token_auth(token);
    auto r = c.Get(std::string(rest.substr(slash)) + "config");
    return r && r->status == 200;
  }

  RunResult Restic(const std::string& what, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "timeout",    "600",         "restic",        "-r", url_, "--password-file",
        dir_ + "/pw", "--cache-dir", dir_ + "/cache", "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Run(argv);
    ++ops[what];
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("retrying after") == std::string::npos) continue;
      ++retries[RetryKind(line)];
      if (retry_lines.size() < 5) retry_lines.push_back(line);
    }
    if (r.status != 0) {
      failures.push_back({what, r.status, r.output, Seconds(SteadyClock::now() - start_)});
      // As a scheduler would, try the next job once the service answers again (not in a tight
      // loop against a fault still in progress).
      Eventually([&] { return ConfigAnswers(); }, 10s);
    }
    return r;
  }

  void Backup() {
    int gen = ++gen_;
    if (gen > 1) tree_.Mutate();
    std::string copy = dir_ + "/gens/g" + std::to_string(gen);
    fs::copy(tree_.root(), copy, fs::copy_options::recursive);
    if (Restic("backup",
               {"backup", "--host", "chaos", "--tag", "g" + std::to_string(gen), tree_.root()})
            .status == 0)
      kept_.insert(gen);
    else
      Refresh();  // a snapshot may have been saved all the same
  }

  void Forget() {
    Restic("forget", {"forget", "--host", "chaos", "--keep-last", "2"});
    Refresh();
  }

  // The kept snapshots from the repository (and the copies of the others removed).
  // False when the listing failed (the kept snapshots are then unknown).
  bool Refresh() {
    RunResult listed = Restic("snapshots", {"--no-lock", "snapshots", "--json"});
    // Retries restic reports on standard error share the output: the JSON is the line of its own.
    std::string array;
    std::istringstream lines(listed.output);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("[")) array = line;
    json snapshots = json::parse(array, nullptr, /*allow_exceptions=*/false);
    if (listed.status != 0 || !snapshots.is_array()) return false;
    std::set<int> kept;
    for (const json& s : snapshots) {
      if (!s.contains("tags") || !s["tags"].is_array()) continue;
      for (const json& tag : s["tags"])
        if (tag.is_string() && tag.get<std::string>().starts_with("g"))
          kept.insert(std::atoi(tag.get<std::string>().c_str() + 1));
    }
    kept_ = kept;
    for (const auto& e : fs::directory_iterator(dir_ + "/gens")) {
      int gen = std::atoi(e.path().filename().string().c_str() + 1);
      if (!kept_.contains(gen) && gen != gen_) fs::remove_all(e.path());
    }
    return true;
  }

  void Restore(std::optional<int> which) {
    if ((!which && !Refresh()) || kept_.empty()) return;
    int gen = which ? *which
                    : *std::next(kept_.begin(), std::uniform_int_distribution<long>(
                                                    0, long(kept_.size()) - 1)(rng_));
    std::string target = dir_ + "/restore";
    fs::remove_all(target);
    RunResult r = Restic(which ? "final restore" : "restore",
                         {"restore", "latest", "--host", "chaos", "--tag",
                          "g" + std::to_string(gen), "--target", target});
    if (r.status == 0) {
      ++restored;
      RunResult diff =
          Run({"diff", "-r", "-q", dir_ + "/gens/g" + std::to_string(gen), target + tree_.root()});
      if (diff.status != 0)
        mismatches.push_back(name_ + " g" + std::to_string(gen) + ": " + diff.output);
    }
    fs::remove_all(target);
  }

  SteadyClock::time_point start_;
  std::string name_, url_, dir_;
  std::mt19937_64 rng_;
  Tree tree_;
  int gen_ = 0;
  std::set<int> kept_;
};

// nginx's access log (the harness's `upstreams` format: method status bytes addrs "statuses"
// time uri): requests, answers by status, requests nginx moved to the other worker.
struct NginxTally {
  int requests = 0, moved = 0;
  std::map<int, int> by_status;
};
NginxTally Tally(const std::string& log) {
  NginxTally t;
  std::istringstream lines(ReadFile(log));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string method, addrs;
    int status = 0;
    fields >> method >> status;
    ++t.requests;
    ++t.by_status[status];
    std::size_t quote = line.find(" \"");
    if (quote != std::string::npos && line.substr(0, quote).find(',') != std::string::npos)
      ++t.moved;
  }
  return t;
}

// nginx's error log: its [error] lines by message (the workers' sockets named A and B).
std::map<std::string, int> NginxErrors(const std::string& log,
                                       const std::vector<std::string>& sockets) {
  std::map<std::string, int> errors;
  std::istringstream lines(ReadFile(log));
  for (std::string line; std::getline(lines, line);) {
    std::size_t star = line.find(" *"), client = line.find(", client:");
    if (line.find("[error]") == std::string::npos || star == std::string::npos ||
        client == std::string::npos)
      continue;
    std::string message = line.substr(line.find(' ', star + 2) + 1);
    message.resize(message.find(", client:"));
    for (std::size_t i = 0; i < sockets.size(); ++i)
      for (std::size_t at; (at = message.find(sockets[i])) != std::string::npos;)
        message.replace(at, sockets[i].size(), std::string(1, char('A' + i)));
    ++errors[message];
  }
  return errors;
}

// The workers' warnings and errors, by message with its numbers blanked out.
std::map<std::string, int> WorkerWarnings(const std::vector<std::string>& logs) {
  std::map<std::string, int> found;
  for (const std::string& log : logs) {
    std::istringstream lines(ReadFile(log));
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("warning:") && !line.starts_with("error:")) continue;
      std::string shape;
      for (char c : line.substr(0, 160))
        if (!(c >= '0' && c <= '9') || shape.empty() || shape.back() != '#')
          shape += c >= '0' && c <= '9' ? '#' : c;
      ++found[shape];
    }
  }
  return found;
}

// Every object of every repository below `root` (the filesystem storage): names of temporary
// files, and objects whose bytes do not hash to their name (config and dot files aside).
struct StorageWalk {
  std::vector<std::string> temporary, corrupt;
  int objects = 0;
};
StorageWalk WalkDisk(const std::string& root) {
  StorageWalk w;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    if (name.starts_with(".tmp-")) {
      w.temporary.push_back(e.path().string());
      continue;
    }
    if (name.starts_with(".") || name == "config") continue;
    ++w.objects;
    if (Sha256Hex(ReadFile(e.path().string())) != name) w.corrupt.push_back(e.path().string());
  }
  return w;
}

// The same for a bucket: every key below `prefix`, fetched.
StorageWalk WalkBucket(const std::string& bucket, const std::string& prefix) {
  StorageWalk w;
  for (const std::string& key : SharedRgw().Keys(bucket, prefix)) {
    std::string name = key.substr(key.rfind('/') + 1);
    if (name.starts_with(".") || name == "config") continue;
    ++w.objects;
    RunResult got = Run({"curl", "-sS", "-f", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
                         Rgw::access_key() + ":" + Rgw::secret_key(), "-H",
                         "x-amz-content-sha256: "
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                         SharedRgw().endpoint() + "/" + bucket + "/" + key});
    if (got.status != 0 || Sha256Hex(got.output) != name) w.corrupt.push_back(key);
  }
  return w;
}

}  // namespace

std::uint64_t ChaosSeed() {
  if (const char* env = std::getenv("TESSERA_CHAOS_SEED"); env != nullptr && *env != '\0')
    return std::strtoull(env, nullptr, 10);
  return std::random_device{}() * 4294967296ull + std::random_device{}();
}

void RunChaos(const ChaosOptions& options) {
  const bool s3 = options.backend == Backend::kS3;
  std::printf("chaos: seed %llu (%s storage, %lld s; repeat with TESSERA_CHAOS_SEED=%llu)\n",
              static_cast<unsigned long long>(options.seed), s3 ? "S3" : "filesystem",
              static_cast<long long>(options.duration.count()),
              static_cast<unsigned long long>(options.seed));
  std::fflush(stdout);
  auto started = SteadyClock::now();

  // Temporary files of killed uploads go within seconds (the sweep every second), so the end
  // can wait for the storage to hold none.
  BackupStack b("upload_temp_max_age = 2\n", options.backend, /*db_proxy=*/true);
  PgCluster& pg = b.stack->pg();
  DbProxy& proxy = b.stack->db_proxy();
  AddAccount(pg.Conninfo(), "carol@pbs", "pw");
  Worker& worker_a = b.stack->worker();
  TempDir dir_b("tessera-chaos-b"), dir_nginx("tessera-chaos-nginx");
  Worker worker_b(dir_b.path, b.stack->WorkerConninfo(), b.worker_config);
  worker_b.Start();
  Nginx nginx(dir_nginx.path, std::vector<std::string>{worker_a.socket(), worker_b.socket()},
              s3 ? "" : b.keys + "/repos");
  std::vector<Worker*> workers = {&worker_a, &worker_b};

  std::mt19937_64 plan(options.seed);
  const std::vector<std::pair<std::string, std::string>> accounts = {
      {"alice@pbs", "laptop"}, {"bob@pbs", "server"}, {"carol@pbs", "home/desktop"}};
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < options.clients && i < int(accounts.size()); ++i) {
    const auto& [user, repo] = accounts[std::size_t(i)];
    std::string token = b.Mint(user, {"--read", "--write", "--delete", "--repo", repo});
    std::string name = user.substr(0, user.find('@'));
    std::string dir = b.keys + "/client-" + name;
    fs::create_directories(dir);
    clients.push_back(std::make_unique<Client>(name,
                                               "rest:http://" + name + ":" + token +
                                                   "@127.0.0.1:" + std::to_string(nginx.port()) +
                                                   "/backup/" + repo + "/",
                                               dir, plan(), options.tree_bytes, started));
  }
  for (auto& c : clients) REQUIRE(c->Init());

  // The clients run while this thread injects faults.
  auto end = SteadyClock::now() + options.duration;
  std::vector<std::thread> threads;
  for (auto& c : clients) threads.emplace_back([&c, end] { c->Loop(end); });

  std::map<std::string, int> faults;
  std::map<std::string, int> cut_markers;
  int stalls_held = 0, cut_alls = 0;
  std::vector<std::string> harness_errors;
  std::vector<SteadyClock::time_point> last_kill(workers.size(), SteadyClock::time_point());
  std::vector<std::string> timeline;  // "12.3 s: what"
  auto Note = [&](const std::string& what) {
    char at[32];
    std::snprintf(at, sizeof at, "%7.1f s: ", Seconds(SteadyClock::now() - started));
    timeline.push_back(at + what);
  };
  const std::vector<std::string> markers = {
      "INSERT INTO usage_reservations",            // reserve
      "INSERT INTO repo_usage",                    // commit
      "u.bytes - r.bytes",                         // release
      "INSERT INTO usage_removals",                // claim a removal
      "c AS (DELETE FROM usage_removals",          // count a removal
      "UPDATE usage_reservations SET lease_until"  // renew, mark storing
  };
  std::vector<double> kinds = {4, 1.5, 2, 3, 1.5};  // kill, postgres, drop all, cut, stall
  if (s3) kinds.push_back(1.5);                     // gateway
  std::discrete_distribution<int> pick(kinds.begin(), kinds.end());
  for (auto next = SteadyClock::now() + Millis(plan, 500, 3000); next < end;
       next = SteadyClock::now() + Millis(plan, 500, 3000)) {
    std::this_thread::sleep_until(next);
    try {
      switch (pick(plan)) {
        case 0: {
          // nginx leaves a worker that failed alone for fail_timeout (10 s), even once it is
          // back: killing the other within it leaves nginx no live worker and restic 502s until
          // then (README, "Several workers"). A deployment keeps one up; so does the run.
          std::size_t target = std::size_t(plan() % workers.size());
          auto now = SteadyClock::now();
          for (std::size_t other = 0; other < workers.size(); ++other)
            if (other != target && now - last_kill[other] < 11s) target = other;
          Worker& w = *workers[target];
          auto down = Millis(plan, 0, 1500);
          if (!w.process().Running())
            harness_errors.push_back(
                "worker " + std::string(1, char('A' + target)) + " had died on its own: " +
                w.Log().substr(w.Log().size() > 2000 ? w.Log().size() - 2000 : 0));
          w.process().Signal(SIGKILL);
          w.process().Wait(10s);
          last_kill[target] = SteadyClock::now();
          std::this_thread::sleep_for(down);
          w.Start();
          Note(std::string("worker ") + char('A' + target) + " killed and started again");
          ++faults["worker killed (SIGKILL) and started again"];
          break;
        }
        case 1: {
          auto down = Millis(plan, 0, 1000);
          pg.Stop();
          std::this_thread::sleep_for(down);
          pg.Start();
          Note("PostgreSQL restarted");
          ++faults["PostgreSQL restarted"];
          break;
        }
        case 2:
          proxy.CutAll();
          Note("every database connection dropped");
          ++cut_alls;
          ++faults["every database connection dropped"];
          break;
        case 3: {
          const std::string& marker = markers[std::size_t(plan() % markers.size())];
          proxy.CutAfterAnswer(marker);
          Note("cut armed on " + marker);
          ++cut_markers[marker];
          ++faults["connection cut after the server ran a statement (armed)"];
          break;
        }
        case 4: {
          const std::string& marker = markers[std::size_t(plan() % markers.size())];
          auto hold = Millis(plan, 500, 4000);
          proxy.Stall(marker);
          std::this_thread::sleep_for(hold);
          bool held = proxy.stalled();
          stalls_held += held ? 1 : 0;
          proxy.Release();
          Note("stall armed on " + marker + (held ? " (held a statement)" : ""));
          ++faults["statement stalled (armed)"];
          break;
        }
        default: {
          auto down = Millis(plan, 500, 2000);
          SharedRgw().StopGateway();
          std::this_thread::sleep_for(down);
          SharedRgw().StartGateway();
          Note("RGW gateway restarted");
          ++faults["RGW gateway restarted"];
          break;
        }
      }
    } catch (const std::exception& e) {
      harness_errors.push_back(e.what());
    }
  }
  for (std::thread& t : threads) t.join();
  auto chaos_ended = SteadyClock::now();
  std::string errors;
  for (const std::string& e : harness_errors) errors += "harness: " + e + "\n";
  INFO("seed " << options.seed << "\n" << errors);
  REQUIRE(harness_errors.empty());
  for (Worker* w : workers) REQUIRE(w->process().Running());

  // The killed workers' reservations and removal claims: their leases (3 minutes) are moved to
  // the past rather than waited for, and both workers start afresh, so the first upload on
  // either (the final checks' locks) settles every expired one, as it would once the lease ran
  // out. No usage recompute here: it would set the books from the walk the check compares.
  std::string leftover = pg.Sql(
      "SELECT (SELECT count(*) FROM usage_reservations) || ' ' || "
      "(SELECT count(*) FROM usage_removals)");
  pg.Sql("UPDATE usage_reservations SET lease_until = now() - interval '1 second'");
  pg.Sql("UPDATE usage_removals SET lease_until = now() - interval '1 second'");
  for (Worker* w : workers) {
    w->process().Signal(SIGTERM);
    REQUIRE(w->process().Wait(10s));
    w->Start();
  }
  threads.clear();
  for (auto& c : clients) threads.emplace_back([&c] { c->Final(); });
  for (std::thread& t : threads) t.join();
  CHECK(Eventually([&] { return pg.Sql("SELECT count(*) FROM usage_reservations") == "0"; }, 10s));
  std::string claims_left = pg.Sql("SELECT count(*) FROM usage_removals");

  StorageWalk walk;
  if (s3) {
    walk = WalkBucket(b.bucket, "tessera/");
  } else {
    // The sweep (every second, files nobody holds and older than 2 s) removes what killed
    // uploads left.
    CHECK(Eventually([&] { return WalkDisk(b.keys + "/repos").temporary.empty(); }, 20s));
    walk = WalkDisk(b.keys + "/repos");
  }
  RunResult books = Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "check"});
  RunResult recompute = Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute"});
  auto finished = SteadyClock::now();

  // The report.
  std::printf("chaos: seed %llu, %d clients, two workers behind one nginx, %s storage\n",
              static_cast<unsigned long long>(options.seed), int(clients.size()),
              s3 ? "S3 (RGW)" : "filesystem");
  std::printf("  chaos %.0f s, final checks %.0f s, total %.0f s\n", Seconds(chaos_ended - started),
              Seconds(finished - chaos_ended), Seconds(finished - started));
  std::printf("  faults injected:\n");
  for (const auto& [kind, n] : faults) std::printf("    %3d  %s\n", n, kind.c_str());
  std::printf(
      "    cuts after the server ran a statement that fired: %d; stalls that held one: %d\n",
      proxy.cuts() - cut_alls, stalls_held);
  for (const auto& [marker, n] : cut_markers)
    std::printf("      armed %dx on \"%s\"\n", n, marker.c_str());
  std::map<std::string, int> ops, retries;
  int failed = 0, failed_at_open = 0, mismatched = 0, restored = 0;
  for (auto& c : clients) {
    for (const auto& [op, n] : c->ops) ops[op] += n;
    for (const auto& [kind, n] : c->retries) retries[kind] += n;
    for (const auto& f : c->failures) ++(f.at_open() ? failed_at_open : failed);
    mismatched += int(c->mismatches.size());
    restored += c->restored;
  }
  std::printf("  operations run (restic):");
  for (const auto& [op, n] : ops) std::printf(" %s %d,", op.c_str(), n);
  std::printf(
      "\n    failed %d, and %d refused at their start (restic 0.14 does not retry its first "
      "request);\n    restores compared %d, differing %d\n",
      failed, failed_at_open, restored, mismatched);
  std::printf("  restic retries:");
  if (retries.empty()) std::printf(" none");
  for (const auto& [kind, n] : retries) std::printf(" %s %d,", kind.c_str(), n);
  std::printf("\n");
  for (auto& c : clients)
    for (const std::string& line : c->retry_lines)
      std::printf("    %s: %s\n", c->name().c_str(), line.c_str());
  NginxTally tally = Tally(nginx.access_log_path());
  std::printf("  nginx: %d requests, %d moved to the other worker; by status:", tally.requests,
              tally.moved);
  for (const auto& [status, n] : tally.by_status) std::printf(" %d: %d,", status, n);
  std::printf("\n");
  for (const auto& [message, n] : NginxErrors(
           nginx.error_log_path(), {"unix:" + worker_a.socket(), "unix:" + worker_b.socket()}))
    std::printf("    nginx error log: %dx %s\n", n, message.c_str());
  for (const auto& [message, n] : WorkerWarnings({worker_a.log_path(), worker_b.log_path()}))
    std::printf("    workers: %dx %s\n", n, message.c_str());
  std::printf(
      "  left by the faults: reservations and removal claims %s; claims after the "
      "settling %s\n",
      leftover.c_str(), claims_left.c_str());
  std::printf("  storage: %d objects, each hashing to its name but %d; temporary files %d\n",
              walk.objects, int(walk.corrupt.size()), int(walk.temporary.size()));
  std::printf("  usage check (exit %d):\n%s  usage recompute:\n%s", books.status,
              books.output.c_str(), recompute.output.c_str());
  std::fflush(stdout);

  if (failed + failed_at_open + mismatched > 0) {
    std::printf("  faults, by time:\n");
    for (const std::string& line : timeline) std::printf("    %s\n", line.c_str());
  }
  for (auto& c : clients) {
    for (const auto& f : c->failures) {
      std::string tail = f.output.substr(f.output.size() > 3000 ? f.output.size() - 3000 : 0);
      if (f.at_open()) tail = tail.substr(0, tail.find('\n'));
      std::printf("  %s %s %s at %.1f s (exit %d): %s\n", f.at_open() ? "refused" : "FAILED",
                  c->name().c_str(), f.what.c_str(), f.at, f.status, tail.c_str());
    }
    for (const std::string& m : c->mismatches) std::printf("  RESTORE DIFFERS %s\n", m.c_str());
  }
  for (const std::string& t : walk.temporary) std::printf("  TEMPORARY FILE %s\n", t.c_str());
  for (const std::string& t : walk.corrupt) std::printf("  CORRUPT OBJECT %s\n", t.c_str());
  std::fflush(stdout);

  // The logs outlive a failing run, for its post-mortem.
  bool clean = failed == 0 && mismatched == 0 && walk.corrupt.empty() && walk.temporary.empty() &&
               books.status == 0;
  if (!clean) {
    std::string keep = "/tmp/tessera-chaos-" + std::to_string(options.seed);
    fs::create_directories(keep);
    fs::copy_file(worker_a.log_path(), keep + "/worker-a.log",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(worker_b.log_path(), keep + "/worker-b.log",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(nginx.access_log_path(), keep + "/nginx-access.log",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(nginx.error_log_path(), keep + "/nginx-error.log",
                  fs::copy_options::overwrite_existing);
    std::printf("  logs kept in %s\n", keep.c_str());
    std::fflush(stdout);
  }
  INFO("seed " << options.seed << " (TESSERA_CHAOS_SEED)");
  CHECK(failed == 0);
  CHECK(mismatched == 0);
  CHECK(restored >= int(clients.size()));
  CHECK(walk.corrupt.empty());
  CHECK(walk.temporary.empty());
  INFO(books.output);
  CHECK(books.status == 0);
  // The recompute finds nothing to change: "used N (was N)" for every account.
  std::istringstream lines(recompute.output);
  for (std::string line; std::getline(lines, line);) {
    std::size_t used = line.find("\tused "), was = line.find(" (was ");
    INFO(line);
    REQUIRE(used != std::string::npos);
    REQUIRE(was != std::string::npos);
    CHECK(line.substr(used + 6, was - used - 6) ==
          line.substr(was + 6, line.find(')', was) - was - 6));
  }
  CHECK(recompute.status == 0);
}

}  // namespace tessera::testing

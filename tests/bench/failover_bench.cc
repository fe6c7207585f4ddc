// Failover (tests/bench/failover runs it; hidden from the test suite): two Tessera workers on one
// PostgreSQL database and one bucket of a throwaway Ceph RGW, behind ONE nginx whose upstream
// lists both sockets (nginx's own failover, as README's "Several workers" configures it). restic
// backs up a generated tree and restores it undisturbed, then restores it again while worker A is
// killed (SIGKILL, by PID) part way through: restic must finish through worker B, the restore
// must equal the source byte for byte and `restic check --read-data` must be clean. Then the
// reverse: worker A comes back, a fresh tree of the same size is backed up while worker B is
// killed part way through, restored and checked. Prints the wall times against the undisturbed
// runs, what nginx's logs say about the requests (which worker answered, moved to the other,
// answered 5xx, the upstream errors), restic's retries and the workers' peak RSS. Built into
// integration_tests for its harness. FAILOVER_BENCH_MIB (default 256) sizes each tree,
// FAILOVER_BENCH_KILL_AT (percent of the undisturbed run's time, default 40) places the kill.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "bench/mixed_tree.h"
#include "integration/harness.h"

using namespace tessera::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

std::string StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(field + ":")) continue;
    std::size_t digits = line.find_first_of("0123456789");
    return line.substr(digits, line.find(' ', digits) - digits);
  }
  return "?";
}

// A directory removed when the bench ends.
struct TempDir {
  explicit TempDir(const std::string& prefix) : path(MakeTempDir(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

// What nginx's logs say about the requests of one phase: those its access log (the harness's
// `upstreams` format: method status bytes addrs "statuses" time uri) recorded after `from`,
// and the upstream errors its error log recorded after `error_from`.
struct NginxTally {
  int requests = 0;
  std::map<std::string, int> by_worker;  // the upstream that gave the final answer
  int moved = 0;                         // tried on more than one worker
  int failed = 0;                        // answered 5xx to restic
  // The error log's upstream errors, by the request's method and the message (the worker's
  // socket named A or B): refused connects, a worker gone before or while answering, ...
  std::map<std::string, int> errors;
  double busy = 0;            // the requests' times added up (nginx's $request_time)
  std::vector<double> times;  // each request's time
};

NginxTally Tally(const Nginx& nginx, std::size_t from, std::size_t error_from,
                 const std::map<std::string, std::string>& names) {
  NginxTally t;
  std::istringstream access(ReadFile(nginx.access_log_path()).substr(from));
  for (std::string line; std::getline(access, line);) {
    ++t.requests;
    std::size_t s1 = line.find(' '), s2 = line.find(' ', s1 + 1), s3 = line.find(' ', s2 + 1);
    std::size_t quote = line.find(" \"", s3);
    if (s3 == std::string::npos || quote == std::string::npos) continue;
    int status = std::atoi(line.c_str() + s1 + 1);
    std::string addrs = line.substr(s3 + 1, quote - s3 - 1);
    std::size_t time_at = line.find("\" ", quote + 2);
    if (time_at != std::string::npos) {
      t.times.push_back(std::atof(line.c_str() + time_at + 2));
      t.busy += t.times.back();
    }
    if (status >= 500) ++t.failed;
    if (addrs.find(',') != std::string::npos) ++t.moved;
    std::string last =
        addrs.substr(addrs.rfind(' ') == std::string::npos ? 0 : addrs.rfind(' ') + 1);
    auto name = names.find(last);
    ++t.by_worker[name == names.end() ? last : name->second];
  }
  std::istringstream errors(ReadFile(nginx.error_log_path()).substr(error_from));
  for (std::string line; std::getline(errors, line);) {
    std::size_t star = line.find(" *"), client = line.find(", client:");
    std::size_t request = line.find("request: \"");
    if (line.find("[error]") == std::string::npos || star == std::string::npos ||
        client == std::string::npos)
      continue;
    std::string message = line.substr(line.find(' ', star + 2) + 1);
    message.resize(message.find(", client:"));
    for (const auto& [socket, name] : names) {
      for (std::size_t at; (at = message.find(socket)) != std::string::npos;)
        message.replace(at, socket.size(), name);
    }
    std::string method =
        request == std::string::npos
            ? "?"
            : line.substr(request + 10, line.find(' ', request + 10) - request - 10);
    ++t.errors[method + " " + message];
  }
  return t;
}

std::size_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::size_t>(n);
}

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// One restic run through the shared nginx; with `victim`, that worker is killed `kill_after`
// into the run (if restic is still going).
struct RunStats {
  double seconds = 0, killed_at = -1;
  std::string output;
  NginxTally nginx;
};

class Bench {
 public:
  Bench(const std::string& repo, const std::string& log_dir, Nginx& nginx,
        std::map<std::string, std::string> names)
      : repo_(repo), log_dir_(log_dir), nginx_(nginx), names_(std::move(names)) {}

  RunStats Restic(const std::vector<std::string>& args, Worker* victim = nullptr,
                  std::chrono::milliseconds kill_after = 0ms) {
    // The cache the backups filled holds the trees, as on a machine that restores its own
    // backup: restores then download data packs in parallel (without it, restic 0.14 loads
    // the trees one small request at a time and a kill lands between requests).
    std::vector<std::string> argv = {"restic", "-r", repo_, "--cache-dir", log_dir_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string log = log_dir_ + "/restic-" + std::to_string(++runs_) + ".log";
    std::size_t access_from = FileSize(nginx_.access_log_path());
    std::size_t error_from = FileSize(nginx_.error_log_path());
    RunStats r;
    auto start = std::chrono::steady_clock::now();
    Process restic(argv, log);
    std::optional<int> status;
    if (victim != nullptr) {
      status = restic.Wait(kill_after);
      if (!status) {
        victim_peak_rss = StatusKiB(victim->process().pid(), "VmHWM");
        victim->process().Signal(SIGKILL);
        r.killed_at =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        REQUIRE(victim->process().Wait(5s));
      }
    }
    if (!status) status = restic.Wait(30min);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.output = ReadFile(log);
    r.nginx = Tally(nginx_, access_from, error_from, names_);
    std::string command;
    for (const auto& arg : args) command += " " + arg;
    INFO("restic" << command << ": " << r.output);
    REQUIRE(status == 0);
    return r;
  }

  std::string victim_peak_rss;

 private:
  std::string repo_, log_dir_;
  Nginx& nginx_;
  std::map<std::string, std::string> names_;
  int runs_ = 0;
};

void RequireSameTree(const std::string& src, const std::string& restored) {
  RunResult diff = Run({"diff", "-r", "-q", src, restored});
  INFO(diff.output);
  REQUIRE(diff.status == 0);
}

void PrintRun(const char* what, const RunStats& r, double baseline) {
  std::printf("  %-34s %8.2fs", what, r.seconds);
  if (baseline > 0) std::printf("  ratio %.2f", r.seconds / baseline);
  if (r.killed_at >= 0) std::printf("  (killed at %.2fs)", r.killed_at);
  std::printf("\n    requests %d (", r.nginx.requests);
  const char* sep = "";
  for (const auto& [name, n] : r.nginx.by_worker) {
    std::printf("%s%s %d", sep, name.c_str(), n);
    sep = ", ";
  }
  std::printf("), moved to the other worker %d, answered 5xx %d; restic retries %d\n",
              r.nginx.moved, r.nginx.failed, CountLines(r.output, "retrying after"));
  for (const auto& [message, n] : r.nginx.errors)
    std::printf("    nginx error log: %dx %s\n", n, message.c_str());
  std::istringstream output(r.output);
  for (std::string line; std::getline(output, line);) {
    if (line.find("retrying after") != std::string::npos)
      std::printf("    restic: %s\n", line.c_str());
  }
  std::vector<double> times = r.nginx.times;
  std::sort(times.begin(), times.end());
  if (!times.empty()) {
    std::printf(
        "    request time median %.3fs, max %.3fs, added up %.1fs (%.1f in flight on "
        "average)\n",
        times[times.size() / 2], times.back(), r.nginx.busy, r.nginx.busy / r.seconds);
  }
}

}  // namespace

TEST_CASE("failover: restic finishes through the other worker when one is killed",
          "[.bench_failover]") {
  const int mib = EnvInt("FAILOVER_BENCH_MIB", 256);
  const double kill_at = EnvInt("FAILOVER_BENCH_KILL_AT", 40) / 100.0;
  BackupStack b("threads = 8\n", Backend::kS3);
  Worker& a = b.stack->worker();
  TempDir dir_b("tessera-failover-b"), dir_nginx("tessera-failover-nginx");
  Worker worker_b(dir_b.path, b.stack->pg().Conninfo(), b.worker_config);
  worker_b.Start();
  Nginx nginx(dir_nginx.path, std::vector<std::string>{a.socket(), worker_b.socket()});
  std::map<std::string, std::string> names = {{"unix:" + a.socket(), "A"},
                                              {"unix:" + worker_b.socket(), "B"}};

  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  setenv("RESTIC_PASSWORD", "bench", 1);
  Bench bench("rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(nginx.port()) +
                  "/backup/laptop/",
              b.keys, nginx, names);
  std::string src = b.keys + "/src", src2 = b.keys + "/src2";
  MakeMixedTree(src, static_cast<std::uint64_t>(mib));
  MakeMixedTree(src2, static_cast<std::uint64_t>(mib));

  bench.Restic({"-q", "init"});
  RunStats backup = bench.Restic({"-q", "backup", src});
  RunStats restore = bench.Restic({"-q", "restore", "latest", "--target", b.keys + "/r1"});
  RequireSameTree(src, b.keys + "/r1" + src);
  fs::remove_all(b.keys + "/r1");

  // Worker A dies part way through the restore.
  auto restore_kill = std::chrono::milliseconds(static_cast<int>(restore.seconds * kill_at * 1000));
  RunStats failover =
      bench.Restic({"-q", "restore", "latest", "--target", b.keys + "/r2"}, &a, restore_kill);
  std::string a_peak = bench.victim_peak_rss;
  REQUIRE(failover.killed_at >= 0);  // restic was still restoring
  RequireSameTree(src, b.keys + "/r2" + src);
  fs::remove_all(b.keys + "/r2");
  RunStats check = bench.Restic({"-q", "check", "--read-data"});

  // The reverse: A is back, B dies part way through a backup of a fresh tree of the same size.
  // nginx tries a failed worker again after fail_timeout (10 s by default); until then the
  // restarted A gets nothing, and B's kill would leave nginx no live upstream (502s restic
  // retries). Wait it out, so the run below shows B's failure alone.
  a.Start();
  std::this_thread::sleep_for(11s);
  auto backup_kill = std::chrono::milliseconds(static_cast<int>(backup.seconds * kill_at * 1000));
  RunStats backup_failover = bench.Restic({"-q", "backup", src2}, &worker_b, backup_kill);
  std::string b_peak = bench.victim_peak_rss;
  REQUIRE(backup_failover.killed_at >= 0);
  RunStats restore2 = bench.Restic({"-q", "restore", "latest", "--target", b.keys + "/r3"});
  RequireSameTree(src2, b.keys + "/r3" + src2);
  fs::remove_all(b.keys + "/r3");
  RunStats check2 = bench.Restic({"-q", "check", "--read-data"});

  std::printf(
      "failover: tree %d MiB, two workers (A, B) behind one nginx upstream, one RGW "
      "bucket;\n  every restore identical to its source, both checks clean\n",
      mib);
  PrintRun("backup, undisturbed", backup, 0);
  PrintRun("restore, undisturbed", restore, 0);
  PrintRun("restore, A killed", failover, restore.seconds);
  PrintRun("check --read-data, B alone", check, 0);
  PrintRun("backup of a fresh tree, B killed", backup_failover, backup.seconds);
  PrintRun("restore of it, A alone", restore2, restore.seconds);
  PrintRun("check --read-data, A alone", check2, 0);
  std::printf("  peak RSS KiB: A %s before its kill, B %s before its kill, A restarted %s\n",
              a_peak.c_str(), b_peak.c_str(), StatusKiB(a.process().pid(), "VmHWM").c_str());
  std::fflush(stdout);
}

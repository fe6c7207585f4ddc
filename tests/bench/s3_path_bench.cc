// The S3 data path (tests/bench/s3-path runs it; hidden from the test suite): restic backup and
// restore of a generated tree through nginx and one Tessera worker on a bucket of a throwaway
// Ceph RGW, against `rclone serve restic` whose remote is another bucket of the same gateway, in
// the same run, and the same worker once more behind an nginx that does not fetch downloads from
// the store itself (the worker streams them). Prints median wall times (rounds alternate the order;
// every restore is compared byte for byte), each server's CPU seconds per GiB uploaded, and the
// worker's peak RSS. Built into integration_tests for its harness (tests/integration/harness.h).
// S3_BENCH_MIB (default 1024) and S3_BENCH_ROUNDS (default 1) size the run.
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench/mixed_tree.h"
#include "integration/harness.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// CPU seconds (user + system) a process has used.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = stat.rfind(')');
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds the whole machine has used (every process: restic, the store, nginx, the worker).
double MachineCpuSeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  return (user + nice + system + irq + softirq) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string PeakRssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("VmHWM:")) continue;
    std::size_t digits = line.find_first_of("0123456789");
    return line.substr(digits, line.find(' ', digits) - digits);
  }
  return "?";
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Server {
  std::string name, url;
  pid_t pid;
  std::vector<double> backup, restore;
  double cpu = 0;
  double restore_cpu = 0, restore_machine_cpu = 0;  // the server's, and everyone's
};

// One round on one server: init a fresh repository, back up (timed, CPU counted), restore
// (timed), compare. Fails the bench on any error.
void Round(Server& s, const std::string& src, const std::string& work, int round) {
  std::string repo = s.url + s.name + "-round" + std::to_string(round) + "/";
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"restic", "-r", repo, "--no-cache", "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto start = std::chrono::steady_clock::now();
    RunResult r = Run(argv);
    INFO(s.name << ": " << r.output);
    REQUIRE(r.status == 0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  restic({"init"});
  double cpu0 = CpuSeconds(s.pid);
  s.backup.push_back(restic({"backup", src}));
  s.cpu += CpuSeconds(s.pid) - cpu0;
  std::string target = work + "/restore-" + s.name;
  double server0 = CpuSeconds(s.pid), machine0 = MachineCpuSeconds();
  s.restore.push_back(restic({"restore", "latest", "--target", target}));
  s.restore_cpu += CpuSeconds(s.pid) - server0;
  s.restore_machine_cpu += MachineCpuSeconds() - machine0;
  RunResult diff = Run({"diff", "-r", "-q", src, target + src});
  INFO(diff.output);
  REQUIRE(diff.status == 0);
  fs::remove_all(target);
}

}  // namespace

TEST_CASE("S3 data path: Tessera on RGW against rclone serve restic on RGW", "[.bench_s3]") {
  const int mib = EnvInt("S3_BENCH_MIB", 1024), rounds = EnvInt("S3_BENCH_ROUNDS", 1);
  BackupStack b("threads = 8\n", Backend::kS3);
  Rgw& rgw = SharedRgw();
  std::string rclone_bucket = rgw.MakeBucket();
  std::string src = b.keys + "/src";
  MakeMixedTree(src, static_cast<std::uint64_t>(mib));
  setenv("RESTIC_PASSWORD", "bench", 1);

  // rclone's remote "lab" is the same gateway; Debian's rclone 1.60 fails with AWS_CA_BUNDLE set.
  unsetenv("AWS_CA_BUNDLE");
  setenv("RCLONE_CONFIG_LAB_TYPE", "s3", 1);
  setenv("RCLONE_CONFIG_LAB_PROVIDER", "Ceph", 1);
  setenv("RCLONE_CONFIG_LAB_ENDPOINT", rgw.endpoint().c_str(), 1);
  setenv("RCLONE_CONFIG_LAB_ACCESS_KEY_ID", Rgw::access_key().c_str(), 1);
  setenv("RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY", Rgw::secret_key().c_str(), 1);
  int rclone_port = FreePort();
  Process rclone({"rclone", "serve", "restic", "--addr", "127.0.0.1:" + std::to_string(rclone_port),
                  "lab:" + rclone_bucket},
                 b.keys + "/rclone.log");
  REQUIRE(Eventually(
      [&] {
        return Run({"curl", "-s", "-o", "/dev/null",
                    "http://127.0.0.1:" + std::to_string(rclone_port) + "/"})
                   .status == 0;
      },
      std::chrono::seconds(10)));

  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete"});
  Server tessera{
      "tessera",
      "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(b.stack->port()) + "/backup/",
      b.stack->worker().process().pid(),
      {},
      {}};
  // The same worker behind a second nginx whose snippet offers no remote location: downloads
  // are streamed through the worker instead of fetched by nginx from a presigned URL.
  std::string shipped = ReadFile(TESSERA_SOURCE_DIR "/conf/nginx/tessera.conf");
  const std::string handoff = " /_tessera/remote/\";";
  REQUIRE(shipped.find(handoff) != std::string::npos);
  shipped.replace(shipped.find(handoff), handoff.size(), "\";");
  WriteFile(b.keys + "/streamed.conf", shipped);
  Nginx streamed_front(MakeTempDir("tessera-streamed"), b.stack->worker().socket(), "",
                       b.keys + "/streamed.conf");
  Server streamed{"streamed",
                  "rest:http://alice:" + token +
                      "@127.0.0.1:" + std::to_string(streamed_front.port()) + "/backup/",
                  b.stack->worker().process().pid(),
                  {},
                  {}};
  Server other{
      "rclone", "rest:http://127.0.0.1:" + std::to_string(rclone_port) + "/", rclone.pid(), {}, {}};
  for (int n = 1; n <= rounds; ++n) {
    std::vector<Server*> order = {&tessera, &streamed, &other};
    if (n % 2 == 0) std::reverse(order.begin(), order.end());
    for (Server* s : order) Round(*s, src, b.keys, n);
  }

  double gib = static_cast<double>(mib) * rounds / 1024;
  std::printf("s3-path: tree %d MiB, median of %d rounds, every restore identical\n", mib, rounds);
  std::printf("  %-30s %10s %10s %7s\n", "", "tessera", "rclone", "ratio");
  double tb = Median(tessera.backup), rb = Median(other.backup);
  double tr = Median(tessera.restore), rr = Median(other.restore);
  std::printf("  %-30s %9.2fs %9.2fs %7.2f\n", "restic backup", tb, rb, tb / rb);
  std::printf("  %-30s %9.2fs %9.2fs %7.2f\n", "restic restore", tr, rr, tr / rr);
  double sr = Median(streamed.restore);
  std::printf("  %-30s %9.2fs %9.2fs %7.2f\n", "restore streamed by the worker", sr, rr, sr / rr);
  std::printf("  %-30s %10.2f\n", "handed off / streamed restore", tr / sr);
  std::printf("  %-30s %10.2f %10.2f %7.2f\n", "restore CPU s/GiB: worker",
              tessera.restore_cpu / gib, streamed.restore_cpu / gib,
              tessera.restore_cpu / streamed.restore_cpu);
  std::printf("  %-30s %10.2f %10.2f %7.2f  (handed off, streamed)\n", "restore CPU s/GiB: machine",
              tessera.restore_machine_cpu / gib, streamed.restore_machine_cpu / gib,
              tessera.restore_machine_cpu / streamed.restore_machine_cpu);
  std::printf("  %-30s %10.2f %10.2f %7.2f\n", "server CPU s per GiB uploaded", tessera.cpu / gib,
              other.cpu / gib, tessera.cpu / other.cpu);
  std::printf("  %-30s %10s %10s\n", "peak RSS KiB", PeakRssKiB(tessera.pid).c_str(),
              PeakRssKiB(other.pid).c_str());
  std::fflush(stdout);
}

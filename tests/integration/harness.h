// The integration test harness: real PostgreSQL, the real worker and a real nginx, started on
// free loopback ports in a throwaway directory and torn down by destructors, also when a test
// fails. Anything that cannot start throws std::runtime_error saying why (never a silent skip).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "db_proxy.h"

namespace httplib {
class Client;
}

namespace tessera::testing {

// A fresh directory under /tmp, world-readable (nginx and postgres run as other users).
std::string MakeTempDir(const std::string& prefix);
// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

// Form-encodes a value: every byte outside [A-Za-z0-9] as %XX.
std::string FormEncode(const std::string& value);
// Lower-case hex SHA-256 of `data` (the name restic gives an object).
std::string Sha256Hex(const std::string& data);
// Writes `files` files of `bytes` random bytes each below `root`, in a few folders.
void MakeRandomTree(const std::string& root, int files, std::size_t bytes);
// `n` random bytes.
std::string RandomBytes(std::size_t n);

// Polls `check` every 20 ms until it holds or `limit` has passed, then asks once more. A change
// in PostgreSQL reaches every worker through NOTIFY within a second: the default.
template <typename F>
bool Eventually(F check, std::chrono::milliseconds limit = std::chrono::seconds(1)) {
  for (auto end = std::chrono::steady_clock::now() + limit;
       std::chrono::steady_clock::now() < end;) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return check();
}

// Polls `check` every 20 ms for `window`; false as soon as it fails once. For what must hold for
// a length of time (a bound measured by the steady clock, which no test moves), never as a way
// to wait for something to happen: that is Eventually.
template <typename F>
bool Throughout(F check, std::chrono::milliseconds window) {
  for (auto end = std::chrono::steady_clock::now() + window;
       std::chrono::steady_clock::now() < end;) {
    if (!check()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return check();
}

// Runs a command to completion; returns its exit status and combined output.
struct RunResult {
  int status;
  std::string output;
};
RunResult Run(const std::vector<std::string>& argv);
// Same, with `input` on standard input.
RunResult RunWithInput(const std::vector<std::string>& argv, const std::string& input);

// A child process, killed when the object goes.
class Process {
 public:
  // Starts argv; stdout and stderr go to `log_path`. With `user`, drops to that user (as root).
  // Standard input is /dev/null, or `stdin_fd` (which the child inherits; the caller keeps and
  // closes its own copy).
  Process(const std::vector<std::string>& argv, const std::string& log_path,
          const std::string& user = "", int stdin_fd = -1);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for exit; returns the exit status (128+signal if killed) or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  void Start();
  void Stop();
  // A libpq connection string for `dbname` on this cluster.
  std::string Conninfo(const std::string& dbname = "tessera") const;
  // The cluster's unix socket (for a DbProxy in front of it).
  std::string SocketPath() const { return dir_ + "/.s.PGSQL." + std::to_string(port_); }
  void CreateDatabase(const std::string& name);
  // Runs SQL through psql and returns its unaligned, tuples-only output. Throws on failure.
  std::string Sql(const std::string& sql, const std::string& dbname = "tessera");

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> server_;
};

// Writes a worker config and runs tessera-fcgi on a unix socket. Keys in `extra_config` replace
// the harness's own (listen, socket_mode, threads, database, database_retry_max_ms).
// With `movable_clock` it runs tessera-fcgi-testclock instead (fcgi/test_clock.h): the same
// worker, whose wall clock MoveClock() sets ahead, so a test of something that expires or comes
// due moves the clock rather than sleeping.
class Worker {
 public:
  Worker(const std::string& dir, const std::string& conninfo, const std::string& extra_config = "",
         bool movable_clock = false);
  ~Worker();
  // Starts and waits for the socket. Throws with the log's tail if it exits first.
  void Start();
  // Starts as a systemd socket unit (conf/systemd/) does: the harness binds and listens on
  // socket() (mode 0666) and hands the listening socket over as standard input, so the config
  // must say `listen = fd:0`. Throws like Start().
  void StartOnInheritedSocket();
  const std::string& socket() const { return socket_; }
  const std::string& log_path() const { return log_; }
  std::string Log() const { return ReadFile(log_); }
  Process& process() { return *process_; }
  const std::string& config_path() const { return config_; }
  // Sets the worker's wall clock `by` further ahead of the real one (0 at start); it reads the
  // new time on its next request. Only for a worker made with `movable_clock` (throws otherwise).
  void MoveClock(std::chrono::seconds by);

 private:
  // Starts tessera-fcgi with `stdin_fd` as its standard input and waits until it listens.
  void Launch(int stdin_fd);

  std::string dir_, socket_, config_, log_;
  std::string clock_file_;  // with a movable clock: the offset the worker adds, in seconds
  std::chrono::seconds clock_offset_{0};
  std::unique_ptr<Process> process_;
};

class Nginx {
 public:
  // Serves on 127.0.0.1:port, passing /api2/ and /backup/ to `fcgi_socket` through the shipped
  // conf/nginx/tessera.conf snippet, with downloads handed to nginx from `storage_dir` (the
  // worker's). As root, nginx's workers run as www-data, as on Debian. Each request nginx
  // answered is a line `METHOD REQUEST_URI STATUS BODY_BYTES_SENT` in <dir>/nginx/logs/access.log.
  // A `snippet` path replaces the shipped one (benchmarks comparing a change to it).
  Nginx(const std::string& dir, const std::string& fcgi_socket, const std::string& storage_dir = "",
        const std::string& snippet = "");
  // Same, with one upstream of several workers, configured as README's "Several workers" says
  // (nginx's defaults: a worker that refuses the connection or fails before its answer began is
  // skipped for 10 s and the request goes to the next), and an access log, access_log_path(),
  // one line per request: method, status, bytes sent, upstream addresses and statuses (several
  // when nginx moved the request on), request time, URI.
  Nginx(const std::string& dir, const std::vector<std::string>& fcgi_sockets,
        const std::string& storage_dir = "");
  ~Nginx();
  int port() const { return port_; }
  std::string access_log_path() const { return dir_ + "/nginx/logs/upstreams.log"; }
  std::string error_log_path() const { return dir_ + "/nginx/logs/error.log"; }

 private:
  void Start(const std::vector<std::string>& fcgi_sockets, const std::string& storage_dir,
             bool access_log, const std::string& snippet);

  std::string dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

class Apache {
 public:
  // Serves on 127.0.0.1:port, passing /api2/ and /backup/ to `fcgi_socket` through the shipped
  // conf/apache/tessera.conf snippet (mod_proxy_fcgi), with mod_xsendfile loaded so downloads
  // from `storage_dir` (the worker's) are sent by Apache.
  // Without `xsendfile` the module is not loaded, which the snippet refuses: Apache exits and
  // the constructor throws with its message.
  Apache(const std::string& dir, const std::string& fcgi_socket,
         const std::string& storage_dir = "", bool xsendfile = true);
  ~Apache();
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

// PostgreSQL with migrations applied, a worker and nginx in front of it.
class Stack {
 public:
  // `storage_dir` is the worker's (set in `extra_config`), for nginx's download location.
  // With `db_proxy`, the worker reaches PostgreSQL through a DbProxy (db_proxy.h), db_proxy().
  // With `movable_clock`, worker().MoveClock() moves the worker's wall clock.
  explicit Stack(const std::string& extra_config = "", const std::string& storage_dir = "",
                 bool db_proxy = false, bool movable_clock = false);
  ~Stack();  // stops nginx and the worker, then removes the directory
  PgCluster& pg() { return pg_; }
  const std::string& dir() const { return dir_; }
  const std::string& storage_dir() const { return storage_dir_; }
  Worker& worker() { return *worker_; }
  DbProxy& db_proxy() { return *db_proxy_; }
  // How the worker reaches PostgreSQL (through the proxy, when there is one).
  std::string WorkerConninfo() const;
  int port() const { return nginx_->port(); }
  httplib::Client Client() const;

 private:
  std::string dir_, storage_dir_;
  PgCluster pg_;
  std::unique_ptr<DbProxy> db_proxy_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Nginx> nginx_;
};

// A throwaway single-node Ceph RADOS Gateway (tests/rgw) on free loopback ports, with one user:
// a real S3 store. Starting one takes about 20 s; the destructor stops its daemons (by the PIDs
// the script recorded) and removes its directory. Throws with the script's output if it cannot
// start.
class Rgw {
 public:
  Rgw();
  ~Rgw();
  Rgw(const Rgw&) = delete;
  Rgw& operator=(const Rgw&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  static std::string access_key() { return "TESSERATESTACCESS001"; }
  static std::string secret_key() { return "tesseratestsecret0000000000000000000001"; }
  // A new, empty bucket with a name not used before in this process. Throws on failure.
  std::string MakeBucket();
  // The keys in `bucket` below `prefix` (every page). Throws on failure.
  std::vector<std::string> Keys(const std::string& bucket, const std::string& prefix = "");
  // Stops and starts the gateway alone (the cluster and its data stay).
  void StopGateway();
  void StartGateway();
  // Stalls the gateway (SIGSTOP by its recorded PID: connections are still accepted by the
  // kernel, never answered) and lets it go on (SIGCONT). Throw on failure.
  void FreezeGateway();
  void ThawGateway();

 private:
  std::string dir_;
  int port_;
  int buckets_ = 0;
};

// The test process's one gateway, started on first use and wiped when the process exits.
Rgw& SharedRgw();

// Where a BackupStack keeps its repositories.
enum class Backend {
  kFilesystem,  // a directory (storage_dir)
  kS3,          // a fresh bucket of SharedRgw() (storage = s3://<bucket>/tessera)
};

// A Stack with the backup endpoints on (a token key, a storage directory or bucket), the
// accounts alice@pbs and bob@pbs (password "pw"), and an admin config to mint tokens with.
class BackupStack {
 public:
  // `extra_config` is appended to the worker's config (see Worker for overriding its keys).
  // With `db_proxy`, the worker reaches PostgreSQL through a DbProxy (stack->db_proxy()).
  explicit BackupStack(const std::string& extra_config = "", Backend backend = Backend::kFilesystem,
                       bool db_proxy = false);
  ~BackupStack();
  // Makes a grant with tessera-admin and returns its token. Throws on failure.
  std::string Mint(const std::string& user, const std::vector<std::string>& flags);
  // A client of the nginx in front, sending `token` as a bearer token.
  httplib::Client Client(const std::string& token);
  // Returns once the worker has acted on every NOTIFY committed before the call: for a test that
  // checks a change did *not* happen (a refused request revoked nothing), in place of waiting
  // "long enough". The worker's listener applies notifications in commit order on one
  // connection (store/pg/listener.h), so it revokes a sentinel grant, honoured and held by the
  // worker's cache a moment before, and waits (5 s at most) for the worker to refuse it: by then
  // every earlier notification has been applied. The sentinel is a grant of its own account,
  // sentinel@pbs, so alice's and bob's grants and accounts are untouched. Throws if the worker
  // never refuses the sentinel.
  void AwaitNotifications();

  // The throwaway directory: token key, admin.conf, repos/ (the storage: as root, group
  // www-data and setgid, so the web server can read what it hands out).
  std::string keys;
  std::string admin_conf;  // tessera-admin --config for token mint/verify/revoke, usage
  // What the worker's config adds to the harness's (for a second worker on the same storage).
  std::string worker_config;
  std::string bucket;  // with Backend::kS3
  std::unique_ptr<Stack> stack;

 private:
  bool sentinel_account_ = false;  // sentinel@pbs exists (AwaitNotifications)
};

// Makes a storage directory as the shipped snippets ask for one: as root, group www-data (the
// web servers' user here) with the setgid bit, mode 2750, so the web server can read what it
// sends. Throws on failure.
void MakeStorageDir(const std::string& path);
// Applies the project's migrations with tessera-admin. Throws on failure.
void MigrateOrThrow(const std::string& conninfo);
// Adds an account with tessera-admin (password on stdin). Throws on failure.
void AddAccount(const std::string& conninfo, const std::string& userid,
                const std::string& password);
// Writes a ticket key and a CSRF key into `dir` with tessera-admin keygen; returns config lines.
std::string MakeKeys(const std::string& dir);

}  // namespace tessera::testing

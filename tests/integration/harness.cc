#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "backup/s3_url.h"

namespace tessera::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  chmod(tmpl.c_str(), 0755);
  return tmpl;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string FormEncode(const std::string& value) {
  std::string out;
  for (unsigned char ch : value) {
    if (std::isalnum(ch)) {
      out.push_back(static_cast<char>(ch));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void MakeRandomTree(const std::string& root, int files, std::size_t bytes) {
  std::string data(bytes, '\0');
  for (int i = 0; i < files; ++i) {
    std::string dir = root + "/d" + std::to_string(i % 5);
    fs::create_directories(dir);
    randombytes_buf(data.data(), data.size());
    std::ofstream(dir + "/f" + std::to_string(i), std::ios::binary) << data;
  }
}

std::string RandomBytes(std::size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), n);
  return s;
}

namespace {
std::string Tail(const std::string& text, std::size_t n = 2000) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

std::string PgBin(const std::string& tool) {
  glob_t g;
  std::string pattern = "/usr/lib/postgresql/*/bin/" + tool;
  if (glob(pattern.c_str(), 0, nullptr, &g) != 0 || g.gl_pathc == 0) {
    throw std::runtime_error("PostgreSQL server binaries not found (" + pattern +
                             "): install postgresql");
  }
  std::string path = g.gl_pathv[g.gl_pathc - 1];
  globfree(&g);
  return path;
}

// PostgreSQL refuses to run as root: as root we run it as the `postgres` user.
std::string PgUser() { return geteuid() == 0 ? "postgres" : ""; }

void ChownTo(const std::string& path, const std::string& user) {
  if (user.empty()) return;
  passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("no user " + user);
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("cannot chown " + path);
  }
}

[[noreturn]] void ExecChild(const std::vector<std::string>& argv, const std::string& user) {
  if (!user.empty()) {
    passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr || initgroups(user.c_str(), pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
      _exit(126);
    }
  }
  // After the uid change (which clears it): die with the test process.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}
}  // namespace

RunResult Run(const std::vector<std::string>& argv) { return RunWithInput(argv, ""); }

RunResult RunWithInput(const std::vector<std::string>& argv, const std::string& input) {
  std::string in_path;
  if (!input.empty()) {
    char tmpl[] = "/tmp/tessera-input-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    in_path = tmpl;
    WriteFile(in_path, input);
  }
  // Close-on-exec, so a child another thread forks meanwhile (a worker living for minutes) never
  // holds this pipe open: the read below ends when this child does (dup2 clears the flag).
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    int in = open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
    dup2(in, 0);
    ExecChild(argv, "");
  }
  close(pipefd[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!in_path.empty()) unlink(in_path.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, output};
}

Process::Process(const std::vector<std::string>& argv, const std::string& log_path,
                 const std::string& user, int stdin_fd) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + log_path);
  ChownTo(log_path, user);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(log, 1);
    dup2(log, 2);
    dup2(stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY), 0);
    ExecChild(argv, user);
  }
  close(log);
}

Process::~Process() {
  if (Running()) {
    kill(pid_, SIGKILL);
    Wait(5s);
  }
}

void Process::Signal(int sig) const { kill(pid_, sig); }

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

bool Process::Running() { return pid_ > 0 && !Wait(0ms); }

PgCluster::PgCluster() : dir_(MakeTempDir("tessera-pg")), port_(FreePort()) {
  ChownTo(dir_, PgUser());
  std::string data = dir_ + "/data";
  std::vector<std::string> initdb = {PgBin("initdb"), "-D",        data, "-A",   "trust",     "-U",
                                     "postgres",      "--no-sync", "-E", "UTF8", "--locale=C"};
  if (!PgUser().empty()) initdb.insert(initdb.begin(), {"runuser", "-u", PgUser(), "--"});
  RunResult r = Run(initdb);
  if (r.status != 0) throw std::runtime_error("initdb failed: " + Tail(r.output));
  Start();
  CreateDatabase("tessera");
}

PgCluster::~PgCluster() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void PgCluster::Start() {
  server_ = std::make_unique<Process>(
      std::vector<std::string>{PgBin("postgres"), "-D", dir_ + "/data", "-k", dir_, "-p",
                               std::to_string(port_), "-c", "listen_addresses=", "-c", "fsync=off",
                               "-c", "full_page_writes=off", "-c", "max_connections=200"},
      dir_ + "/postgres.log", PgUser());
  for (int i = 0; i < 200; ++i) {
    if (!server_->Running()) {
      throw std::runtime_error("postgres exited: " + Tail(ReadFile(dir_ + "/postgres.log")));
    }
    if (Run({PgBin("pg_isready"), "-q", "-h", dir_, "-p", std::to_string(port_)}).status == 0) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("postgres did not become ready: " +
                           Tail(ReadFile(dir_ + "/postgres.log")));
}

void PgCluster::Stop() {
  if (!server_) return;
  server_->Signal(SIGINT);  // fast shutdown
  if (!server_->Wait(20s)) server_->Signal(SIGKILL);
  server_.reset();
}

std::string PgCluster::Conninfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

void PgCluster::CreateDatabase(const std::string& name) {
  Sql("CREATE DATABASE " + name, "postgres");
}

std::string PgCluster::Sql(const std::string& sql, const std::string& dbname) {
  RunResult r = Run(
      {"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", Conninfo(dbname), "-c", sql});
  if (r.status != 0) throw std::runtime_error("psql failed: " + r.output + " for: " + sql);
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r.output;
}

void MakeStorageDir(const std::string& path) {
  fs::create_directories(path);
  if (geteuid() != 0) return;
  RunResult group = Run({"chgrp", "www-data", path});
  if (group.status != 0) throw std::runtime_error("chgrp www-data failed: " + group.output);
  fs::permissions(
      path,
      fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::set_gid,
      fs::perm_options::replace);
}

void MigrateOrThrow(const std::string& conninfo) {
  RunResult r = Run({TESSERA_ADMIN_BIN, "--database", conninfo, "migrate", "--sql-dir",
                     TESSERA_SOURCE_DIR "/sql"});
  if (r.status != 0) throw std::runtime_error("tessera-admin migrate failed: " + r.output);
}

void AddAccount(const std::string& conninfo, const std::string& userid,
                const std::string& password) {
  RunResult r = RunWithInput({TESSERA_ADMIN_BIN, "--database", conninfo, "account", "add", userid},
                             password + "\n");
  if (r.status != 0) throw std::runtime_error("account add failed: " + r.output);
}

std::string MakeKeys(const std::string& dir) {
  std::string ticket = dir + "/ticket.k4.secret", csrf = dir + "/csrf.k4.local";
  if (!fs::exists(ticket)) {
    RunResult a = Run({TESSERA_ADMIN_BIN, "keygen", "--out", ticket});
    RunResult b = Run({TESSERA_ADMIN_BIN, "keygen", "--type", "local", "--out", csrf});
    if (a.status != 0 || b.status != 0)
      throw std::runtime_error("keygen failed: " + a.output + b.output);
  }
  return "ticket_key = " + ticket + "\ncsrf_key = " + csrf + "\n";
}

Worker::Worker(const std::string& dir, const std::string& conninfo, const std::string& extra,
               bool movable_clock)
    : dir_(dir),
      socket_(dir + "/fcgi.sock"),
      config_(dir + "/tessera.conf"),
      log_(dir + "/worker.log"),
      clock_file_(movable_clock ? dir + "/clock-offset" : "") {
  if (movable_clock) WriteFile(clock_file_, "0\n");
  // Cheap Argon2id for tests (the benchmark measures the real cost). A key that `extra` sets
  // replaces the base line (the config format refuses repeated keys).
  std::vector<std::pair<std::string, std::string>> base = {{"listen", socket_},
                                                           {"socket_mode", "0666"},
                                                           {"threads", "4"},
                                                           {"database", "'" + conninfo + "'"},
                                                           {"database_retry_max_ms", "500"}};
  std::string text;
  for (const auto& [key, value] : base) {
    bool overridden =
        extra.starts_with(key + " ") || extra.find("\n" + key + " ") != std::string::npos;
    if (!overridden) text += key + " = " + value + "\n";
  }
  WriteFile(config_, text + MakeKeys(dir) + extra);
}

Worker::~Worker() {
  if (process_ && process_->Running()) {
    process_->Signal(SIGTERM);
    process_->Wait(10s);
  }
}

void Worker::Start() {
  std::error_code ec;
  fs::remove(socket_, ec);
  Launch(-1);
}

void Worker::StartOnInheritedSocket() {
  std::error_code ec;
  fs::remove(socket_, ec);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, sizeof addr.sun_path - 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      chmod(socket_.c_str(), 0666) != 0 || listen(fd, 128) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot listen on " + socket_);
  }
  struct Close {
    int fd;
    ~Close() { close(fd); }
  } keep{fd};  // the worker holds its own copy
  Launch(fd);
}

void Worker::MoveClock(std::chrono::seconds by) {
  if (clock_file_.empty())
    throw std::runtime_error("MoveClock: this worker's clock is the real one");
  clock_offset_ += by;
  // Written whole and renamed into place: the worker never reads half a number.
  WriteFile(clock_file_ + ".new", std::to_string(clock_offset_.count()) + "\n");
  fs::rename(clock_file_ + ".new", clock_file_);
}

void Worker::Launch(int stdin_fd) {
  std::size_t log_start = Log().size();  // a restart appends to the same log
  // env(1) execs the worker in its own place: the Process's PID is the worker's.
  std::vector<std::string> argv =
      clock_file_.empty()
          ? std::vector<std::string>{TESSERA_FCGI_BIN, "--config", config_}
          : std::vector<std::string>{"env", "TESSERA_TEST_CLOCK_OFFSET_FILE=" + clock_file_,
                                     TESSERA_FCGI_TESTCLOCK_BIN, "--config", config_};
  process_ = std::make_unique<Process>(argv, log_, "", stdin_fd);
  for (int i = 0; i < 500; ++i) {
    if (!process_->Running()) throw std::runtime_error("tessera-fcgi exited: " + Tail(Log()));
    if (Log().find("listening on", log_start) != std::string::npos) return;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("tessera-fcgi did not start: " + Tail(Log()));
}

Nginx::Nginx(const std::string& dir, const std::string& fcgi_socket, const std::string& storage_dir,
             const std::string& snippet)
    : dir_(dir), port_(FreePort()) {
  Start({fcgi_socket}, storage_dir, false, snippet);
}

Nginx::Nginx(const std::string& dir, const std::vector<std::string>& fcgi_sockets,
             const std::string& storage_dir)
    : dir_(dir), port_(FreePort()) {
  Start(fcgi_sockets, storage_dir, true, "");
}

void Nginx::Start(const std::vector<std::string>& fcgi_sockets, const std::string& storage_dir,
                  bool access_log, const std::string& snippet) {
  std::string servers;
  for (const auto& socket : fcgi_sockets) servers += " server unix:" + socket + ";";
  fs::create_directories(dir_ + "/nginx/logs");
  fs::copy_file("/etc/nginx/fastcgi_params", dir_ + "/nginx/fastcgi_params",
                fs::copy_options::overwrite_existing);
  std::string conf =
      std::string(geteuid() == 0 ? "user www-data;\n" : "") +
      "worker_processes 1;\n"
      "pid " +
      dir_ +
      "/nginx/nginx.pid;\n"
      "error_log " +
      dir_ +
      "/nginx/logs/error.log warn;\n"
      "events { worker_connections 1024; }\n"
      "http {\n"
      // What nginx itself sent: tests compare the worker's counts with it.
      "  log_format tessera_test '$request_method $request_uri $status "
      "$body_bytes_sent';\n"
      "  access_log " +
      dir_ + "/nginx/logs/access.log tessera_test;\n" +
      (access_log ? "  log_format upstreams '$request_method $status $bytes_sent "
                    "$upstream_addr \"$upstream_status\" $request_time $uri';\n"
                    "  access_log " +
                        access_log_path() + " upstreams;\n"
                  : std::string()) +
      "  client_body_temp_path " + dir_ +
      "/nginx/body;\n"
      "  fastcgi_temp_path " +
      dir_ +
      "/nginx/fastcgi;\n"
      "  proxy_temp_path " +
      dir_ +
      "/nginx/proxy;\n"
      "  uwsgi_temp_path " +
      dir_ +
      "/nginx/uwsgi;\n"
      "  scgi_temp_path " +
      dir_ +
      "/nginx/scgi;\n"
      "  upstream tessera_fcgi {" +
      servers +
      " }\n"
      "  server {\n"
      "    listen 127.0.0.1:" +
      std::to_string(port_) +
      ";\n"
      "    set $tessera_storage_dir " +
      (storage_dir.empty() ? dir_ + "/no-storage" : storage_dir) +
      ";\n"
      "    location = /static.txt { root " +
      dir_ +
      "/nginx; }\n"
      "    include " +
      (snippet.empty() ? std::string(TESSERA_SOURCE_DIR "/conf/nginx/tessera.conf") : snippet) +
      ";\n"
      "  }\n"
      "}\n";
  WriteFile(dir_ + "/nginx/nginx.conf", conf);
  WriteFile(dir_ + "/nginx/static.txt", "{}");
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"nginx", "-p", dir_ + "/nginx", "-c", dir_ + "/nginx/nginx.conf",
                               "-g", "daemon off;"},
      dir_ + "/nginx/logs/stderr.log");
  for (int i = 0; i < 300; ++i) {
    if (!process_->Running()) {
      throw std::runtime_error("nginx exited: " + ReadFile(dir_ + "/nginx/logs/stderr.log") +
                               ReadFile(dir_ + "/nginx/logs/error.log"));
    }
    httplib::Client c("127.0.0.1", port_);
    if (c.Get("/static.txt")) return;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("nginx did not answer");
}

Nginx::~Nginx() {
  if (process_ && process_->Running()) {
    process_->Signal(SIGQUIT);
    if (!process_->Wait(5s)) process_->Signal(SIGKILL);
  }
}

Apache::Apache(const std::string& dir, const std::string& fcgi_socket,
               const std::string& storage_dir, bool xsendfile)
    : dir_(dir + (xsendfile ? "/apache" : "/apache-streaming")), port_(FreePort()) {
  fs::create_directories(dir_ + "/logs");
  const std::string mods = "/usr/lib/apache2/modules/";
  std::string conf =
      "ServerRoot " + dir_ +
      "\n"
      "LoadModule mpm_event_module " +
      mods +
      "mod_mpm_event.so\n"
      "LoadModule authz_core_module " +
      mods +
      "mod_authz_core.so\n"
      "LoadModule proxy_module " +
      mods +
      "mod_proxy.so\n"
      "LoadModule proxy_fcgi_module " +
      mods +
      "mod_proxy_fcgi.so\n"
      "LoadModule reqtimeout_module " +
      mods + "mod_reqtimeout.so\n" +
      (xsendfile ? "LoadModule xsendfile_module " + mods + "mod_xsendfile.so\n" : "") + "PidFile " +
      dir_ +
      "/apache.pid\n"
      "ErrorLog " +
      dir_ +
      "/logs/error.log\n"
      "DefaultRuntimeDir " +
      dir_ +
      "\n"
      "Mutex file:" +
      dir_ +
      " default\n"
      "ServerName 127.0.0.1\n"
      "Listen 127.0.0.1:" +
      std::to_string(port_) + "\n" + (geteuid() == 0 ? "User www-data\nGroup www-data\n" : "") +
      // Debian's default capacity (150 request threads), in one process.
      "StartServers 1\nServerLimit 1\nThreadLimit 150\nThreadsPerChild 150\nMaxRequestWorkers 150\n"
      "<VirtualHost 127.0.0.1:" +
      std::to_string(port_) +
      ">\n"
      "  Define TESSERA_SOCKET " +
      fcgi_socket +
      "\n"
      "  Define TESSERA_STORAGE_DIR " +
      (storage_dir.empty() ? dir_ + "/no-storage" : storage_dir) +
      "\n"
      "  Include " TESSERA_SOURCE_DIR
      "/conf/apache/tessera.conf\n"
      "</VirtualHost>\n";
  WriteFile(dir_ + "/apache2.conf", conf);
  // As root, Apache serves as www-data (it refuses root); -DFOREGROUND keeps it our child.
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/sbin/apache2", "-f", dir_ + "/apache2.conf", "-DFOREGROUND"},
      dir_ + "/logs/stderr.log");
  for (int i = 0; i < 300; ++i) {
    if (!process_->Running()) {
      throw std::runtime_error("apache2 exited: " + ReadFile(dir_ + "/logs/stderr.log") +
                               ReadFile(dir_ + "/logs/error.log"));
    }
    httplib::Client c("127.0.0.1", port_);
    if (c.Get("/api2/json/version")) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("apache2 did not answer: " + ReadFile(dir_ + "/logs/error.log"));
}

Apache::~Apache() {
  if (process_ && process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(5s)) process_->Signal(SIGKILL);
  }
}

Stack::Stack(const std::string& extra_config, const std::string& storage_dir, bool db_proxy,
             bool movable_clock)
    : dir_(MakeTempDir("tessera-stack")), storage_dir_(storage_dir) {
  MigrateOrThrow(pg_.Conninfo());
  if (db_proxy) db_proxy_ = std::make_unique<DbProxy>(pg_.SocketPath());
  worker_ = std::make_unique<Worker>(dir_, WorkerConninfo(), extra_config, movable_clock);
  worker_->Start();
  nginx_ = std::make_unique<Nginx>(dir_, worker_->socket(), storage_dir_);
}

std::string Stack::WorkerConninfo() const {
  return db_proxy_ ? db_proxy_->Conninfo() : pg_.Conninfo();
}

Stack::~Stack() {
  nginx_.reset();
  worker_.reset();
  db_proxy_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

httplib::Client Stack::Client() const {
  httplib::Client c("127.0.0.1", port());
  c.set_read_timeout(30, 0);
  return c;
}

Rgw::Rgw() : dir_(MakeTempDir("tessera-rgw") + "/lab"), port_(FreePort()) {
  // The script's watcher wipes the lab should this process die without its destructor.
  RunResult up =
      Run({"env", "RGW_OWNER_PID=" + std::to_string(getpid()), TESSERA_SOURCE_DIR "/tests/rgw",
           "up", dir_, std::to_string(port_), std::to_string(FreePort())});
  if (up.status != 0) {
    Run({TESSERA_SOURCE_DIR "/tests/rgw", "wipe", dir_});
    std::error_code ec;
    fs::remove_all(fs::path(dir_).parent_path(), ec);
    throw std::runtime_error("tests/rgw up failed: " + Tail(up.output));
  }
}

Rgw::~Rgw() {
  Run({TESSERA_SOURCE_DIR "/tests/rgw", "wipe", dir_});
  std::error_code ec;
  fs::remove_all(fs::path(dir_).parent_path(), ec);
}

std::string Rgw::MakeBucket() {
  std::string name = "tessera-" + std::to_string(getpid()) + "-" + std::to_string(++buckets_);
  RunResult r = Run({TESSERA_SOURCE_DIR "/tests/rgw", "bucket", dir_, name});
  if (r.status != 0) throw std::runtime_error("bucket " + name + ": " + r.output);
  return name;
}

std::vector<std::string> Rgw::Keys(const std::string& bucket, const std::string& prefix) {
  std::vector<std::string> keys;
  std::string token;
  for (;;) {
    // curl signs with SigV4 itself; the query is already in canonical order.
    std::string url =
        endpoint() + "/" + bucket + "?" +
        (token.empty() ? "" : "continuation-token=" + backup::S3UriEncode(token, false) + "&") +
        "list-type=2&prefix=" + backup::S3UriEncode(prefix, false);
    RunResult r = Run({"curl", "-sS", "-f", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
                       access_key() + ":" + secret_key(), "-H",
                       "x-amz-content-sha256: "
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       url});
    if (r.status != 0) throw std::runtime_error("listing " + bucket + " failed: " + r.output);
    const std::string& xml = r.output;
    for (std::size_t at = xml.find("<Key>"); at != std::string::npos;
         at = xml.find("<Key>", at + 1)) {
      std::size_t end = xml.find("</Key>", at);
      keys.push_back(xml.substr(at + 5, end - at - 5));
    }
    std::size_t next = xml.find("<NextContinuationToken>");
    if (xml.find("<IsTruncated>true</IsTruncated>") == std::string::npos ||
        next == std::string::npos)
      return keys;
    next += std::string_view("<NextContinuationToken>").size();
    token = xml.substr(next, xml.find('<', next) - next);
  }
}

void Rgw::StopGateway() {
  RunResult r = Run({TESSERA_SOURCE_DIR "/tests/rgw", "gateway-stop", dir_});
  if (r.status != 0) throw std::runtime_error("gateway-stop failed: " + r.output);
}

void Rgw::StartGateway() {
  RunResult r = Run({TESSERA_SOURCE_DIR "/tests/rgw", "gateway-start", dir_});
  if (r.status != 0) throw std::runtime_error("gateway-start failed: " + Tail(r.output));
}

namespace {
void SignalGateway(const std::string& dir, int sig) {
  std::string text = ReadFile(dir + "/run/rgw.pid");
  pid_t pid = static_cast<pid_t>(std::stol(text));
  if (pid <= 1 || kill(pid, sig) != 0)
    throw std::runtime_error("cannot signal the gateway (pid " + text + ")");
}
}  // namespace

void Rgw::FreezeGateway() { SignalGateway(dir_, SIGSTOP); }

void Rgw::ThawGateway() { SignalGateway(dir_, SIGCONT); }

Rgw& SharedRgw() {
  // Destroyed at exit like any static, which wipes the cluster.
  static Rgw rgw;
  return rgw;
}

BackupStack::BackupStack(const std::string& extra_config, Backend backend, bool db_proxy)
    : keys(MakeTempDir("tessera-backup")), admin_conf(keys + "/admin.conf") {
  const std::string repos = keys + "/repos";
  std::string storage;
  if (backend == Backend::kS3) {
    Rgw& rgw = SharedRgw();
    bucket = rgw.MakeBucket();
    const std::string credentials = keys + "/s3.credentials";
    WriteFile(credentials, "aws_access_key_id = " + Rgw::access_key() +
                               "\naws_secret_access_key = " + Rgw::secret_key() + "\n");
    fs::permissions(credentials, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    storage = "storage = s3://" + bucket + "/tessera\ns3_endpoint = " + rgw.endpoint() +
              "\ns3_credentials = " + credentials + "\n";
  } else {
    MakeStorageDir(repos);
    storage = "storage_dir = " + repos + "\n";
  }
  RunResult key = Run({TESSERA_ADMIN_BIN, "keygen", "--out", keys + "/token.k4.secret"});
  if (key.status != 0) throw std::runtime_error("keygen failed: " + key.output);
  std::string common = "server_id = backup-test\ntoken_key = " + keys + "/token.k4.secret\n";
  worker_config =
      common + storage + "password_opslimit = 1\npassword_memlimit_kib = 8192\n" + extra_config;
  stack = std::make_unique<Stack>(worker_config, backend == Backend::kS3 ? "" : repos, db_proxy);
  WriteFile(admin_conf, common + storage + "database = '" + stack->pg().Conninfo() + "'\n");
  AddAccount(stack->pg().Conninfo(), "alice@pbs", "pw");
  AddAccount(stack->pg().Conninfo(), "bob@pbs", "pw");
}

BackupStack::~BackupStack() {
  stack.reset();
  std::error_code ec;
  fs::remove_all(keys, ec);
}

std::string BackupStack::Mint(const std::string& user, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {TESSERA_ADMIN_BIN, "--config", admin_conf, "token", "mint",
                                   "--user",          user};
  argv.insert(argv.end(), flags.begin(), flags.end());
  RunResult r = Run(argv);
  if (r.status != 0) throw std::runtime_error("token mint failed: " + r.output);
  return r.output.substr(0, r.output.find('\n'));
}

httplib::Client BackupStack::Client(const std::string& token) {
  httplib::Client c = stack->Client();
  c.set_bearer_token_auth(token.c_str());
  return c;
}

void BackupStack::AwaitNotifications() {
  PgCluster& pg = stack->pg();
  if (!sentinel_account_) {  // alice's hash: no Argon2 run for an account nobody logs in to
    pg.Sql(
        "INSERT INTO accounts (userid, password_hash) SELECT 'sentinel@pbs', password_hash "
        "FROM accounts WHERE userid = 'alice@pbs'");
    sentinel_account_ = true;
  }
  std::string token = Mint("sentinel@pbs", {"--read"});
  httplib::Client c = Client(token);
  auto status = [&] {
    auto r = c.Get("/backup/sentinel/config");
    return r ? r->status : -1;
  };
  // Honoured (no repository: 404), so the worker now holds the grant.
  if (!Eventually([&] { return status() == 404; }, 5s))
    throw std::runtime_error("AwaitNotifications: the sentinel grant is not honoured");
  pg.Sql(
      "UPDATE api_tokens SET revoked_at = now() WHERE userid = 'sentinel@pbs' AND revoked_at IS "
      "NULL");
  if (!Eventually([&] { return status() == 401; }, 5s))
    throw std::runtime_error("AwaitNotifications: the worker never applied the revocation");
}

}  // namespace tessera::testing

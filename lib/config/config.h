// Configuration: the worker's and admin tool's settings, read from a file of `key = value` lines.
//
// Format (like postgresql.conf): one setting per line, `#` starts a comment, blank lines are
// ignored, a value may be wrapped in single quotes to keep `#` or surrounding spaces. Unknown keys
// and repeated keys are errors, so a typo never silently falls back to a default.
// conf/tessera.conf.example documents every key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::config {

struct Config {
  // Where the worker listens: "/path/to.sock", a loopback "127.0.0.1:PORT", "[::1]:PORT" or
  // "localhost:PORT", or "fd:N" for an inherited socket (spawn-fcgi, systemd socket activation).
  // Other addresses need listen_insecure_remote.
  std::string listen = "fd:0";
  // Permission bits of a unix socket the worker creates.
  unsigned socket_mode = 0660;
  int threads = 4;
  int backlog = 1024;
  // libpq connection string.
  std::string database = "dbname=tessera";
  // Longest wait for a new connection to PostgreSQL.
  std::chrono::seconds database_connect_timeout{2};
  // Upper bound of the reconnect backoff after PostgreSQL went away.
  std::chrono::milliseconds database_retry_max{2000};
  // Largest JSON or form body accepted.
  std::size_t max_body_bytes = 64 * 1024;
  // Directory of the admin's own migrations, applied after the schema (optional).
  std::string site_migrations;
  // Directory of the schema migrations (used by the admin tool).
  std::string schema_migrations = "/usr/share/tessera/sql";
  std::string log_level = "info";
  // This server's identity: issuer and audience of its tokens.
  std::string server_id = "tessera";
  // The bearer-token signing key (a k4.secret file, mode 0600) and older public keys (k4.public
  // files) whose tokens still verify.
  std::string token_key;
  std::vector<std::string> token_verify_keys;
  // Seconds a token's nbf/iat may lie in the future (clocks of other machines drift).
  std::chrono::seconds token_clock_skew{60};

  // Ticket signing key (k4.secret file, 0600), older ticket public keys, and the CSRF HMAC key
  // (k4.local file, 0600). The worker needs ticket_key and csrf_key.
  std::string ticket_key;
  std::vector<std::string> ticket_verify_keys;
  std::string csrf_key;
  // Argon2id cost for new password hashes; older hashes are upgraded at the next login.
  unsigned long long password_opslimit = 2;
  std::size_t password_memlimit_kib = 64 * 1024;
  // Failed-login throttling: password attempts allowed per (account, client address) and per
  // client address (IPv6 per /64) within the window (seconds, counted from the first attempt).
  // Never per account alone, so nobody can lock the owner out from elsewhere.
  int login_max_user_failures = 5;
  int login_max_addr_failures = 20;
  int login_failure_window = 300;
  // Client networks whose failed logins against one account get a throttle row of their own per
  // window; past that, a new network's attempts against the account are held to
  // login_max_user_failures on its network's row. Bounds what an attacker with many networks
  // (IPv6 /64s) grows per account; the owner, elsewhere, still logs in.
  int login_max_account_networks = 256;
  // Live sessions (password logins) per account: a login beyond them ends the account's session
  // renewed least recently, its tickets revoked as at a logout.
  int max_sessions_per_account = 64;
  // How long the worker trusts its cached account, grant and revocation state without hearing from
  // PostgreSQL before authentication answers 503 (milliseconds).
  std::chrono::milliseconds auth_max_staleness{1500};
  // How many accounts, and how many grants, the worker's cache holds at most (the ones in use
  // stay; others are read from PostgreSQL when next needed): a few hundred bytes each.
  std::size_t auth_cache_entries = 32768;

  // Where backup repositories live (filesystem backend): <storage_dir>/<account id>/<repo>/. Empty:
  // the backup endpoints are off (503).
  std::string storage_dir;
  // Where backup repositories live instead, in an S3 bucket: "s3://bucket[/prefix]" (checked
  // fully when the backup service starts, backup/s3_url.h). Exclusive with storage_dir; the s3_*
  // settings below apply only with it.
  std::string storage;
  // The store's URL, "https://host[:port]" (required with storage), and its SigV4 region.
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  // A file with the key pair (mode 0600, backup/s3_credentials.h); empty: AWS_ACCESS_KEY_ID and
  // AWS_SECRET_ACCESS_KEY from the environment.
  std::string s3_credentials;
  // Bucket in the path (<endpoint>/<bucket>/<key>, any S3-compatible store) or in the host name
  // (<bucket>.<host>, AWS).
  bool s3_virtual_hosted = false;
  // Largest object a client may upload (restic packs are at most 128 MiB).
  std::uint64_t max_object_bytes = 130ull * 1024 * 1024;
  // How many repositories an account may create unless its own accounts.repo_max_count says
  // otherwise (backup/repo_book.h).
  std::uint64_t repo_max_count = 64;

  // Retention of what grows with login traffic: audit rows are kept this many days; ended
  // throttle windows, dead sessions and expired revocations go as soon as they are useless.
  // Pruned on the login path at most once per `prune_interval` seconds per worker process.
  int audit_retention_days = 90;
  int prune_interval = 60;
  // Temporary upload files (a crashed worker's debris) older than this are removed, at start-up
  // and then every half of it (at most hourly); files a live worker still writes never are.
  std::chrono::seconds upload_temp_max_age{3600};
  // The thread pool: `threads` are kept, more are started while every thread is busy, up to
  // max_threads (never fewer than `threads`); threads beyond `threads` exit after a while idle.
  int max_threads = 128;
  // Fair share (auth/fair_share.h): requests one account (all its tokens and tickets together),
  // and one token, may have in flight at once; beyond them 429 with Retry-After, before the body
  // is read. Logins are shared the same way per client address. Reloadable.
  int max_requests_per_account = 16;
  int max_requests_per_token = 8;
  // PostgreSQL connections shared by all threads, each borrowed for one call. 0: `threads`.
  int database_connections = 0;
  // Longest a socket read or write on a FastCGI connection may wait, and the grace period of
  // the minimum rate below.
  std::chrono::seconds io_timeout{30};
  // Bytes per second a request body or a response must move on average (a transfer may bank
  // at most io_timeout seconds of credit); slower ones are cut. 0: only io_timeout applies.
  std::uint64_t min_transfer_rate = 4096;
  // `listen` may name a non-loopback address only when this is true: FastCGI has no
  // authentication, whoever reaches the port can claim any client address.
  bool listen_insecure_remote = false;
  // One line per request on standard error (log/access_log.h): time, account, token name,
  // method, route, status, bytes, duration. Never a credential.
  bool access_log = true;
  // Who may read GET /metrics besides loopback (127.0.0.0/8, ::1): addresses and CIDR ranges
  // ("192.0.2.0/24, 2001:db8::/48"), as REMOTE_ADDR shows them. Checked when the worker builds its
  // services (api/metrics_page.h). The shipped web server snippets never pass /metrics on.
  std::vector<std::string> metrics_allow;
};

// max_threads as the worker uses it: never below threads.
int EffectiveMaxThreads(const Config& config);
// database_connections as the worker uses it (threads when 0).
int EffectiveDatabaseConnections(const Config& config);

struct ConfigError {
  int line = 0;  // 0 when the error is not about one line
  std::string message;
};

// Parses configuration text. Returns the first error found, with its line number.
std::expected<Config, ConfigError> Parse(std::string_view text);
// The largest config file Load() accepts.
inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

// Reads and parses a file of at most kMaxConfigBytes, reading no more than one byte past that
// (so a FIFO or a device that never ends fails at once). Errors name the file's problem
// (unreadable, too large, or a line).
std::expected<Config, ConfigError> Load(const std::filesystem::path& path);

}  // namespace tessera::config

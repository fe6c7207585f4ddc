#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace tessera::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename T>
bool ParseNumber(std::string_view v, T* out, T min, T max, int base = 10) {
  T n{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) return false;
  *out = n;
  return true;
}

// yes/true/on or no/false/off.
bool ParseSwitch(std::string_view v, bool* out) {
  if (v == "yes" || v == "true" || v == "on") {
    *out = true;
  } else if (v == "no" || v == "false" || v == "off") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

// A comma-separated list of non-empty items (an empty value is an empty list).
bool ParseList(std::string_view v, std::vector<std::string>* out) {
  out->clear();
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view item = Trim(v.substr(0, comma));
    if (item.empty()) return false;
    out->emplace_back(item);
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return true;
}

using Setter = std::function<bool(Config&, std::string_view)>;

const std::map<std::string, Setter, std::less<>>& Setters() {
  static const std::map<std::string, Setter, std::less<>> setters = {
      {"listen",
       [](Config& c, std::string_view v) {
         c.listen = v;
         return !v.empty();
       }},
      {"socket_mode",
       [](Config& c, std::string_view v) { return ParseNumber(v, &c.socket_mode, 0u, 0777u, 8); }},
      {"threads", [](Config& c, std::string_view v) { return ParseNumber(v, &c.threads, 1, 256); }},
      {"backlog",
       [](Config& c, std::string_view v) { return ParseNumber(v, &c.backlog, 1, 65535); }},
      {"database",
       [](Config& c, std::string_view v) {
         c.database = v;
         return true;
       }},
      {"database_connect_timeout",
       [](Config& c, std::string_view v) {
         int s = 0;
         if (!ParseNumber(v, &s, 1, 60)) return false;
         c.database_connect_timeout = std::chrono::seconds(s);
         return true;
       }},
      {"database_retry_max_ms",
       [](Config& c, std::string_view v) {
         int ms = 0;
         if (!ParseNumber(v, &ms, 10, 60000)) return false;
         c.database_retry_max = std::chrono::milliseconds(ms);
         return true;
       }},
      {"max_body_bytes",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::size_t>(v, &c.max_body_bytes, 1024, 16 * 1024 * 1024);
       }},
      {"site_migrations",
       [](Config& c, std::string_view v) {
         c.site_migrations = v;
         return true;
       }},
      {"schema_migrations",
       [](Config& c, std::string_view v) {
         c.schema_migrations = v;
         return !v.empty();
       }},
      {"log_level",
       [](Config& c, std::string_view v) {
         c.log_level = v;
         return v == "debug" || v == "info" || v == "warning" || v == "error";
       }},
      {"token_key",
       [](Config& c, std::string_view v) {
         c.token_key = v;
         return true;
       }},
      {"token_verify_keys",
       [](Config& c, std::string_view v) { return ParseList(v, &c.token_verify_keys); }},
      {"ticket_key",
       [](Config& c, std::string_view v) {
         c.ticket_key = v;
         return true;
       }},
      {"ticket_verify_keys",
       [](Config& c, std::string_view v) { return ParseList(v, &c.ticket_verify_keys); }},
      {"csrf_key",
       [](Config& c, std::string_view v) {
         c.csrf_key = v;
         return true;
       }},
      {"password_opslimit",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.password_opslimit, 1ull, 64ull);
       }},
      {"password_memlimit_kib",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::size_t>(v, &c.password_memlimit_kib, 8, 4 * 1024 * 1024);
       }},
      {"login_max_user_failures",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.login_max_user_failures, 1, 1000);
       }},
      {"login_max_addr_failures",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.login_max_addr_failures, 1, 100000);
       }},
      {"login_failure_window",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.login_failure_window, 1, 86400);
       }},
      {"login_max_account_networks",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.login_max_account_networks, 1, 100000);
       }},
      {"max_sessions_per_account",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.max_sessions_per_account, 1, 100000);
       }},
      {"auth_max_staleness_ms",
       [](Config& c, std::string_view v) {
         int ms = 0;
         if (!ParseNumber(v, &ms, 500, 60000)) return false;
         c.auth_max_staleness = std::chrono::milliseconds(ms);
         return true;
       }},
      {"auth_cache_entries",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::size_t>(v, &c.auth_cache_entries, 1, 16 * 1024 * 1024);
       }},
      {"token_clock_skew",
       [](Config& c, std::string_view v) {
         int s = 0;
         if (!ParseNumber(v, &s, 0, 600)) return false;
         c.token_clock_skew = std::chrono::seconds(s);
         return true;
       }},
      {"storage_dir",
       [](Config& c, std::string_view v) {
         c.storage_dir = v;
         return true;
       }},
      {"storage",
       [](Config& c, std::string_view v) {
         c.storage = v;
         return v.empty() || v.starts_with("s3://");
       }},
      {"s3_endpoint",
       [](Config& c, std::string_view v) {
         c.s3_endpoint = v;
         return v.empty() || v.starts_with("http://") || v.starts_with("https://");
       }},
      {"s3_region",
       [](Config& c, std::string_view v) {
         c.s3_region = v;
         return !v.empty() && v.size() <= 32 && std::all_of(v.begin(), v.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
         });
       }},
      {"s3_credentials",
       [](Config& c, std::string_view v) {
         c.s3_credentials = v;
         return true;
       }},
      {"s3_addressing",
       [](Config& c, std::string_view v) {
         c.s3_virtual_hosted = v == "virtual";
         return v == "path" || v == "virtual";
       }},
      {"max_object_bytes",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::uint64_t>(v, &c.max_object_bytes, 1024, 1ull << 34);
       }},
      {"repo_max_count",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::uint64_t>(v, &c.repo_max_count, 0, 2147483647);
       }},
      {"server_id",
       [](Config& c, std::string_view v) {
         c.server_id = v;
         return !v.empty() && v.size() <= 255;
       }},
      {"audit_retention_days",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.audit_retention_days, 1, 36500);
       }},
      {"prune_interval",
       [](Config& c, std::string_view v) { return ParseNumber(v, &c.prune_interval, 1, 86400); }},
      {"upload_temp_max_age",
       [](Config& c, std::string_view v) {
         int s = 0;
         if (!ParseNumber(v, &s, 1, 7 * 86400)) return false;
         c.upload_temp_max_age = std::chrono::seconds(s);
         return true;
       }},
      {"max_threads",
       [](Config& c, std::string_view v) { return ParseNumber(v, &c.max_threads, 1, 4096); }},
      {"max_requests_per_account",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.max_requests_per_account, 1, 4096);
       }},
      {"max_requests_per_token",
       [](Config& c, std::string_view v) {
         return ParseNumber(v, &c.max_requests_per_token, 1, 4096);
       }},
      {"database_connections",
       [](Config& c, std::string_view v) {
         if (v.empty()) {
           c.database_connections = 0;
           return true;
         }
         return ParseNumber(v, &c.database_connections, 1, 1024);
       }},
      {"io_timeout",
       [](Config& c, std::string_view v) {
         int s = 0;
         if (!ParseNumber(v, &s, 1, 3600)) return false;
         c.io_timeout = std::chrono::seconds(s);
         return true;
       }},
      {"min_transfer_rate",
       [](Config& c, std::string_view v) {
         return ParseNumber<std::uint64_t>(v, &c.min_transfer_rate, 0, 1ull << 30);
       }},
      {"listen_insecure_remote",
       [](Config& c, std::string_view v) { return ParseSwitch(v, &c.listen_insecure_remote); }},
      {"access_log", [](Config& c, std::string_view v) { return ParseSwitch(v, &c.access_log); }},
      {"metrics_allow",
       [](Config& c, std::string_view v) { return ParseList(v, &c.metrics_allow); }},
  };
  return setters;
}

}  // namespace

std::expected<Config, ConfigError> Parse(std::string_view text) {
  Config config;
  std::set<std::string, std::less<>> seen;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);

    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return std::unexpected(ConfigError{line_no, "expected `key = value`"});
    }
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (!value.empty() && value.front() == '\'') {
      std::size_t close = value.find('\'', 1);
      if (close == std::string_view::npos) {
        return std::unexpected(ConfigError{line_no, "unterminated quoted value"});
      }
      std::string_view rest = Trim(value.substr(close + 1));
      if (!rest.empty() && rest.front() != '#') {
        return std::unexpected(ConfigError{line_no, "text after a quoted value"});
      }
      value = value.substr(1, close - 1);
    } else {
      std::size_t hash = value.find('#');
      if (hash != std::string_view::npos) value = Trim(value.substr(0, hash));
    }
    auto it = Setters().find(key);
    if (it == Setters().end()) {
      return std::unexpected(ConfigError{line_no, "unknown key `" + std::string(key) + "`"});
    }
    if (!seen.insert(std::string(key)).second) {
      return std::unexpected(ConfigError{line_no, "`" + std::string(key) + "` is set twice"});
    }
    if (!it->second(config, value)) {
      return std::unexpected(ConfigError{line_no, "invalid value for `" + std::string(key) + "`"});
    }
  }
  // Settings that only make sense together.
  if (!config.storage.empty() && !config.storage_dir.empty())
    return std::unexpected(ConfigError{0, "set either `storage_dir` or `storage`, not both"});
  if (!config.storage.empty() && config.s3_endpoint.empty())
    return std::unexpected(ConfigError{0, "`storage = s3://...` needs `s3_endpoint`"});
  if (config.storage.empty() && (!config.s3_endpoint.empty() || !config.s3_credentials.empty()))
    return std::unexpected(ConfigError{0, "the s3_* settings need `storage = s3://...`"});
  // One S3 PUT holds at most 5 GiB (AWS S3 API Reference, "PutObject"); uploads are not split.
  if (!config.storage.empty() && config.max_object_bytes > (5ull << 30))
    return std::unexpected(
        ConfigError{0, "`max_object_bytes` above 5 GiB cannot be stored in one S3 PUT"});
  return config;
}

int EffectiveMaxThreads(const Config& config) {
  return std::max(config.max_threads, config.threads);
}

int EffectiveDatabaseConnections(const Config& config) {
  return config.database_connections != 0 ? config.database_connections : config.threads;
}

std::expected<Config, ConfigError> Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(ConfigError{0, "cannot read " + path.string()});
  // At most one byte past the cap is read, whatever the file is (a FIFO, /dev/zero, a file that
  // grows): reading the whole of it first would let it take the worker's memory.
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return std::unexpected(ConfigError{0, "cannot read " + path.string()});
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return std::unexpected(ConfigError{0, path.string() + " is larger than 1 MiB"});
  }
  return Parse(text);
}

}  // namespace tessera::config

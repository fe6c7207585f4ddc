#include "backup/s3_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "backup/unique_fd.h"
#include "crypto/secret_bytes.h"

namespace tessera::backup {
namespace {

constexpr std::size_t kMaxFileBytes = 4096;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Access key ids are letters and digits; secrets printable ASCII without spaces (AWS's are
// base64-like, other stores' vary).
bool IsAccessKey(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}
bool IsSecret(std::string_view s) {
  return !s.empty() && s.size() <= 256 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

S3Credentials::~S3Credentials() { crypto::WipeString(secret_); }

S3Credentials::S3Credentials(S3Credentials&& other) noexcept
    : access_key_(std::move(other.access_key_)), secret_(std::move(other.secret_)) {
  crypto::WipeString(other.secret_);
}

std::expected<S3Credentials, std::string> ParseS3Credentials(std::string_view text) {
  std::string access, secret;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    std::size_t eq = line.find('=');
    std::string where = "line " + std::to_string(line_no);
    if (eq == std::string_view::npos) return std::unexpected(where + ": expected `key = value`");
    std::string_view key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") {
      if (!access.empty()) return std::unexpected(where + ": aws_access_key_id set twice");
      if (!IsAccessKey(value))
        return std::unexpected(where + ": aws_access_key_id is not 1 to 128 letters and digits");
      access = std::string(value);
    } else if (key == "aws_secret_access_key") {
      if (!secret.empty()) return std::unexpected(where + ": aws_secret_access_key set twice");
      if (!IsSecret(value)) {
        return std::unexpected(where +
                               ": aws_secret_access_key is not 1 to 256 printable characters");
      }
      secret = std::string(value);
    } else {
      return std::unexpected(where + ": unknown key (aws_access_key_id, aws_secret_access_key)");
    }
  }
  if (access.empty() || secret.empty()) {
    crypto::WipeString(secret);
    return std::unexpected("needs both aws_access_key_id and aws_secret_access_key");
  }
  return S3Credentials(std::move(access), std::move(secret));
}

std::expected<S3Credentials, std::string> LoadS3Credentials(const std::filesystem::path& path) {
  const std::string name = "S3 credentials file " + path.string();
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return std::unexpected("cannot open " + name);
  struct stat st{};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::unexpected(name + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return std::unexpected(name + " is accessible by group or others (chmod 600 it)");
  std::string text(kMaxFileBytes + 1, '\0');
  std::size_t filled = 0;
  while (filled < text.size()) {
    ssize_t n = read(fd.get(), text.data() + filled, text.size() - filled);
    if (n < 0) {
      crypto::WipeString(text);
      return std::unexpected("cannot read " + name);
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  if (filled > kMaxFileBytes) {
    crypto::WipeString(text);
    return std::unexpected(name + " is larger than 4 KiB");
  }
  auto parsed = ParseS3Credentials(std::string_view(text).substr(0, filled));
  crypto::WipeString(text);
  if (!parsed) return std::unexpected(name + ": " + parsed.error());
  return parsed;
}

std::expected<S3Credentials, std::string> S3CredentialsFromEnvironment() {
  const char* access = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (access == nullptr || secret == nullptr) {
    return std::unexpected(
        "no S3 credentials: set s3_credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "in the worker's environment");
  }
  if (!IsAccessKey(access))
    return std::unexpected("AWS_ACCESS_KEY_ID is not 1 to 128 letters and digits");
  if (!IsSecret(secret))
    return std::unexpected("AWS_SECRET_ACCESS_KEY is not 1 to 256 printable characters");
  return S3Credentials(access, secret);
}

}  // namespace tessera::backup

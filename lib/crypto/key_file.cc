#include "crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

#include "crypto/paserk.h"

namespace tessera::crypto {
namespace {

// An open file descriptor, closed on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string_view View(const SecretBytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

std::expected<SecretBytes, std::string> ReadKeyFile(const std::filesystem::path& path,
                                                    bool secret) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return std::unexpected("cannot open key file " + path.string());
  struct stat st{};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::unexpected("key file " + path.string() + " is not a regular file");
  }
  if (secret && (st.st_mode & 077) != 0) {
    return std::unexpected("secret key file " + path.string() +
                           " is accessible by group or others (chmod 600 it)");
  }
  SecretBytes buffer(kMaxPaserkBytes + 2);
  ssize_t n = read(fd.get(), buffer.data(), buffer.size());
  if (n < 0 || static_cast<std::size_t>(n) > kMaxPaserkBytes + 1) {
    return std::unexpected("key file " + path.string() + " is unreadable or too large");
  }
  std::size_t len = static_cast<std::size_t>(n);
  if (len > 0 && buffer.data()[len - 1] == '\n') --len;
  return SecretBytes(buffer.span().first(len));
}

std::expected<SecretKey, std::string> LoadSecretKey(const std::filesystem::path& path) {
  auto text = ReadKeyFile(path, /*secret=*/true);
  if (!text) return std::unexpected(text.error());
  auto key = ParseSecretPaserk(View(*text));
  if (!key) return std::unexpected(path.string() + " does not hold a valid k4.secret key");
  return std::move(*key);
}

std::expected<std::vector<PublicKey>, std::string> LoadPublicKeys(
    const std::vector<std::filesystem::path>& paths) {
  std::vector<PublicKey> keys;
  for (const auto& path : paths) {
    auto text = ReadKeyFile(path, /*secret=*/false);
    if (!text) return std::unexpected(text.error());
    auto key = ParsePublicPaserk(View(*text));
    if (!key) return std::unexpected(path.string() + " does not hold a valid k4.public key");
    keys.push_back(*key);
  }
  return keys;
}

std::expected<LocalKey, std::string> LoadLocalKey(const std::filesystem::path& path) {
  auto text = ReadKeyFile(path, /*secret=*/true);
  if (!text) return std::unexpected(text.error());
  auto key = ParseLocalPaserk(View(*text));
  if (!key) return std::unexpected(path.string() + " does not hold a valid k4.local key");
  return std::move(*key);
}

}  // namespace tessera::crypto

#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/paserk.h"

namespace tessera::crypto {

Keyring::Keyring(SecretKey signing_key)
    : signing_public_(signing_key.Public()),
      signing_kid_(Pid(signing_public_)),
      signer_(std::move(signing_key)) {
  AddVerificationKey(signing_public_);
}

void Keyring::AddVerificationKey(const PublicKey& key) {
  verifiers_.try_emplace(Pid(key), PublicVerifier(key));
}

const PublicVerifier* Keyring::Find(std::string_view kid) const {
  auto it = verifiers_.find(kid);
  return it == verifiers_.end() ? nullptr : &it->second;
}

std::expected<SecretBytes, std::string> ReadKeyFile(const std::filesystem::path& path, bool secret) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::unexpected("cannot open key file " + path.string());
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return std::unexpected("key file " + path.string() + " is not a regular file");
  }
  if (secret && (st.st_mode & 077) != 0) {
    close(fd);
    return std::unexpected("secret key file " + path.string() +
                           " is accessible by group or others (chmod 600 it)");
  }
  SecretBytes buffer(kMaxPaserkBytes + 2);
  ssize_t n = read(fd, buffer.data(), buffer.size());
  close(fd);
  if (n < 0 || static_cast<std::size_t>(n) > kMaxPaserkBytes + 1) {
    return std::unexpected("key file " + path.string() + " is unreadable or too large");
  }
  std::size_t len = static_cast<std::size_t>(n);
  if (len > 0 && buffer.data()[len - 1] == '\n') --len;
  return SecretBytes(buffer.span().first(len));
}

std::expected<Keyring, std::string> Keyring::Load(
    const std::filesystem::path& secret_file,
    const std::vector<std::filesystem::path>& public_files) {
  auto text = ReadKeyFile(secret_file, /*secret=*/true);
  if (!text) return std::unexpected(text.error());
  auto key = ParseSecretPaserk(
      std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
  if (!key) return std::unexpected(secret_file.string() + " does not hold a valid k4.secret key");
  Keyring ring(std::move(*key));
  for (const auto& file : public_files) {
    auto pub = ReadKeyFile(file, /*secret=*/false);
    if (!pub) return std::unexpected(pub.error());
    auto parsed = ParsePublicPaserk(
        std::string_view(reinterpret_cast<const char*>(pub->data()), pub->size()));
    if (!parsed) return std::unexpected(file.string() + " does not hold a valid k4.public key");
    ring.AddVerificationKey(*parsed);
  }
  return ring;
}

}  // namespace tessera::crypto

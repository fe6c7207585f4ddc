// tessera-admin keygen [--type secret|local] --out FILE: a new key in a new file of mode 0600
// (never overwriting one). `secret` (the default) is an Ed25519 signing key for tokens or tickets,
// written as k4.secret; the key's k4.public and k4.pid are printed so the operator can keep the
// public half for rotation. `local` is a 32-byte symmetric key (the CSRF key), written as k4.local.
//
// tessera-admin keygen --public-of FILE: the k4.public of an existing k4.secret file, alone on its
// line, to keep as a verify key (token_verify_keys, ticket_verify_keys) when the signing key is
// rotated: `tessera-admin keygen --public-of token.k4.secret > token-1.k4.public`.
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "admin/commands.h"
#include "crypto/key_file.h"
#include "crypto/keys.h"
#include "crypto/paserk.h"

namespace tessera::admin {

std::expected<std::optional<std::string>, std::string> WriteNewKey(const std::string& path,
                                                                   KeyType type) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected("cannot create " + path + ": " + std::strerror(errno) +
                           (errno == EEXIST ? " (refusing to overwrite a key)" : ""));
  }
  crypto::SecretKey key = crypto::SecretKey::Generate();
  crypto::SecretBytes paserk;
  if (type == KeyType::kLocal) {
    std::string text = crypto::ToPaserk(crypto::LocalKey::Generate());
    paserk = crypto::SecretBytes(
        std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    sodium_memzero(text.data(), text.size());
  } else {
    paserk = crypto::ToPaserk(key);
  }
  bool ok = write(fd, paserk.data(), paserk.size()) == static_cast<ssize_t>(paserk.size()) &&
            write(fd, "\n", 1) == 1 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    unlink(path.c_str());
    return std::unexpected("cannot write " + path);
  }
  if (type == KeyType::kLocal) return std::nullopt;
  return crypto::ToPaserk(key.Public()) + "\n" + crypto::Pid(key.Public());
}

int Keygen(const config::Config&, const Args& args) {
  if (args.size() == 2 && args[0] == "--public-of") {
    auto key = crypto::LoadSecretKey(args[1]);
    if (!key) {
      std::cerr << "tessera-admin: " << key.error() << "\n";
      return 1;
    }
    std::cout << crypto::ToPaserk(key->Public()) << "\n";
    return 0;
  }
  std::string path;
  std::string_view type = "secret";
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--out") {
      path = args[i + 1];
    } else if (args[i] == "--type") {
      type = args[i + 1];
    } else {
      return Usage();
    }
  }
  if (path.empty() || args.size() % 2 != 0 || (type != "secret" && type != "local")) return Usage();
  auto written = WriteNewKey(path, type == "local" ? KeyType::kLocal : KeyType::kSecret);
  if (!written) {
    std::cerr << "tessera-admin: " << written.error() << "\n";
    return 1;
  }
  if (*written) std::cout << **written << "\n";
  return 0;
}

}  // namespace tessera::admin

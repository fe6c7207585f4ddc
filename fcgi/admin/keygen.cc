// tessera-admin keygen --out FILE: a new Ed25519 signing key for bearer tokens, written as a
// k4.secret PASERK to a new file of mode 0600 (never overwriting one); prints the key's
// k4.public and k4.pid so the operator can keep the public half for rotation.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "admin/commands.h"
#include "crypto/keys.h"
#include "crypto/paserk.h"

namespace tessera::admin {

int Keygen(const config::Config&, const Args& args) {
  if (args.size() != 2 || args[0] != "--out") return Usage();
  std::string path(args[1]);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "tessera-admin: cannot create " << path << ": " << std::strerror(errno)
              << (errno == EEXIST ? " (refusing to overwrite a key)" : "") << "\n";
    return 1;
  }
  crypto::SecretKey key = crypto::SecretKey::Generate();
  crypto::SecretBytes paserk = crypto::ToPaserk(key);
  bool ok = write(fd, paserk.data(), paserk.size()) == static_cast<ssize_t>(paserk.size()) &&
            write(fd, "\n", 1) == 1 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    std::cerr << "tessera-admin: cannot write " << path << "\n";
    unlink(path.c_str());
    return 1;
  }
  std::cout << crypto::ToPaserk(key.Public()) << "\n" << crypto::Pid(key.Public()) << "\n";
  return 0;
}

}  // namespace tessera::admin

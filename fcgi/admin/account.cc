// tessera-admin account add|passwd|disable|enable|list, and hash-password.
//
// Passwords are read from the terminal (echo off, asked twice) or, when stdin is not a terminal,
// as the first line of stdin — never from the command line, where other users could see them.
// `hash-password` prints a hash for admins who write accounts in their own site migrations.
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

#include "admin/commands.h"
#include "auth/login_request.h"
#include "crypto/password.h"
#include "crypto/rfc3339.h"
#include "names/userid.h"
#include "names/utf8.h"
#include "store/pg/account_admin.h"

namespace tessera::admin {
namespace {

std::optional<std::string> ReadLine(bool echo_off) {
  termios old{};
  bool tty = echo_off && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
  }
  if (!ok) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The password, read as the header says; nullopt (with a message) when empty or not confirmed.
std::optional<std::string> ReadPassword() {
  bool tty = isatty(STDIN_FILENO);
  if (tty) std::cerr << "Password: ";
  auto first = ReadLine(true);
  if (!first || first->empty()) {
    std::cerr << "tessera-admin: no password given\n";
    return std::nullopt;
  }
  if (tty) {
    std::cerr << "Again: ";
    auto second = ReadLine(true);
    bool same = second && *second == *first;
    if (second) sodium_memzero(second->data(), second->size());
    if (!same) {
      sodium_memzero(first->data(), first->size());
      std::cerr << "tessera-admin: the passwords differ\n";
      return std::nullopt;
    }
  }
  // Refuse what the login page would refuse, so no account gets a password nobody can type in.
  std::string_view why;
  if (first->size() > auth::kMaxPasswordBytes) {
    why = "password too long";
  } else if (!names::IsValidUtf8(*first)) {
    why = "password is not valid UTF-8";
  } else if (names::HasControlCharacter(*first)) {
    why = "password contains a control character";
  }
  if (!why.empty()) {
    sodium_memzero(first->data(), first->size());
    std::cerr << "tessera-admin: " << why << "\n";
    return std::nullopt;
  }
  return first;
}

std::optional<std::string> NewHash(const config::Config& config) {
  auto password = ReadPassword();
  if (!password) return std::nullopt;
  auto hash = crypto::HashPassword(*password,
                                   {config.password_opslimit, config.password_memlimit_kib * 1024});
  sodium_memzero(password->data(), password->size());
  if (!hash) {
    std::cerr << "tessera-admin: cannot hash with the configured Argon2id cost\n";
    return std::nullopt;
  }
  return *hash;
}

int Report(const std::expected<void, std::string>& result, std::string_view done) {
  if (!result) {
    std::cerr << "tessera-admin: " << result.error() << "\n";
    return 1;
  }
  std::cout << done << "\n";
  return 0;
}

}  // namespace

int HashPassword(const config::Config& config, const Args& args) {
  if (!args.empty()) return Usage();
  auto hash = NewHash(config);
  if (!hash) return 1;
  std::cout << *hash << "\n";
  return 0;
}

int Account(const config::Config& config, const Args& args) {
  if (args.empty()) return Usage();
  std::string_view verb = args[0];
  if (verb == "list" && args.size() == 1) {
    auto rows = store::pg::ListAccounts(config.database);
    if (!rows) {
      std::cerr << "tessera-admin: " << rows.error() << "\n";
      return 1;
    }
    for (const auto& r : *rows) {
      std::cout << r.userid << "\t" << (r.enabled ? "enabled" : "disabled") << "\texpires "
                << r.expires_at.value_or("never") << "\tcreated " << r.created_at << "\n";
    }
    return 0;
  }
  if (args.size() < 2) return Usage();
  std::string userid(args[1]);
  if (!names::IsValidUserid(userid)) {
    std::cerr << "tessera-admin: '" << userid << "' is not a valid userid (name@realm)\n";
    return 1;
  }
  if (verb == "add") {
    std::optional<std::string> expires;
    if (args.size() == 4 && args[2] == "--expires") {
      if (!crypto::ParseRfc3339(args[3])) {
        std::cerr << "tessera-admin: --expires takes an RFC 3339 time, e.g. 2027-01-01T00:00:00Z\n";
        return 2;
      }
      expires = std::string(args[3]);
    } else if (args.size() != 2) {
      return Usage();
    }
    auto hash = NewHash(config);
    if (!hash) return 1;
    return Report(store::pg::AddAccount(config.database, userid, *hash, expires),
                  "added " + userid);
  }
  if (args.size() != 2) return Usage();
  if (verb == "passwd") {
    auto hash = NewHash(config);
    if (!hash) return 1;
    return Report(store::pg::SetPassword(config.database, userid, *hash),
                  "password changed; " + userid + "'s tickets are ended");
  }
  if (verb == "disable") {
    return Report(store::pg::SetEnabled(config.database, userid, false),
                  "disabled " + userid + "; its tickets are ended");
  }
  if (verb == "enable")
    return Report(store::pg::SetEnabled(config.database, userid, true), "enabled " + userid);
  return Usage();
}

}  // namespace tessera::admin

// The parameters of `POST /api2/json/access/ticket` (DESIGN.md, "Ticket API"), as Proxmox Backup
// Server defines them: `username`, `password`, `http-only`, and the accepted but unused `realm`,
// `path`, `privs`, `port`, `tfa-challenge`. Anything else is a 400 that names it.
#pragma once

#include <expected>
#include <string>

#include "http/params.h"

namespace tessera::auth {

struct LoginRequest {
  std::string username;
  std::string password;  // a password or a ticket: never logged
  bool http_only = false;

  LoginRequest() = default;
  LoginRequest(const LoginRequest&) = delete;
  LoginRequest& operator=(const LoginRequest&) = delete;
  LoginRequest(LoginRequest&&) = default;
  LoginRequest& operator=(LoginRequest&&) = default;
  ~LoginRequest();  // wipes the password
};

inline constexpr std::size_t kMaxUsernameBytes = 64;
inline constexpr std::size_t kMaxPasswordBytes = 4096;

// Validates the parameter set. Fails with 400 naming the missing, unknown or malformed field.
// Consumes the password out of `params` so only one copy exists.
std::expected<LoginRequest, http::Problem> ParseLoginRequest(http::Params& params);

}  // namespace tessera::auth

// The parameters of `POST /api2/json/access/ticket` (DESIGN.md, "Ticket API"), as Proxmox Backup
// Server defines them: `username`, `password`, `http-only`, and the accepted but unused `realm`,
// `path`, `privs`, `port`, `tfa-challenge`. Anything else is a 400 that names it.
//
// Every value is checked as text before anything looks it up: the username against the userid
// grammar (names/userid.h, UTF-8 included), the password and the other parameters as UTF-8
// without control characters and within their size cap. A failure is a 400 naming the field,
// never a trip to the database (which would refuse malformed text with an error that reads as an
// outage).
//
// And the login CSRF check: a login posted by a page of another site (a cross-site form) is
// refused, judged by the Fetch metadata (`Sec-Fetch-Site`) and `Origin` headers browsers send.
#pragma once

#include <cstddef>
#include <expected>
#include <string>

#include "http/params.h"
#include "http/request.h"

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
inline constexpr std::size_t kMaxOtherParamBytes = 256;  // realm, path, privs, port, tfa-challenge

// Validates the parameter set. Fails with 400 naming the missing, unknown or malformed field.
// Consumes the password out of `params` so only one copy exists. Thread-safe.
std::expected<LoginRequest, http::Problem> ParseLoginRequest(http::Params& params);

// Refuses a login from another site with 403: `Sec-Fetch-Site` present and neither
// "same-origin" nor "none"; or `Origin` present and "null", not http(s)://host[:port], or naming
// another host than the request's `Host` header (a missing Host cannot match), or another port
// when Host names one (nginx's Debian fastcgi_params pass Host without its port). A request with
// neither header (API clients, curl) passes. Thread-safe.
std::expected<void, http::Problem> CheckLoginOrigin(const http::Request& request);

}  // namespace tessera::auth

#include "auth/login_request.h"

#include <sodium.h>

#include <array>
#include <string_view>

namespace tessera::auth {
namespace {
constexpr std::array<std::string_view, 8> kKnown = {
    "username", "password", "http-only", "realm", "path", "privs", "port", "tfa-challenge"};

http::Problem Bad(std::string message) { return http::Problem{400, std::move(message)}; }
}  // namespace

LoginRequest::~LoginRequest() {
  if (!password.empty()) sodium_memzero(password.data(), password.size());
}

std::expected<LoginRequest, http::Problem> ParseLoginRequest(http::Params& params) {
  for (const auto& [name, value] : params) {
    bool known = false;
    for (auto k : kKnown) known = known || name == k;
    if (!known) {
      std::string shown = name.substr(0, 64);
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      }
      return std::unexpected(Bad("unknown parameter '" + shown + "'"));
    }
  }
  LoginRequest request;
  auto user = params.find("username");
  if (user == params.end() || user->second.empty()) {
    return std::unexpected(Bad("parameter 'username' is required"));
  }
  if (user->second.size() > kMaxUsernameBytes) {
    return std::unexpected(Bad("parameter 'username' is too long"));
  }
  request.username = user->second;
  auto pass = params.find("password");
  if (pass == params.end() || pass->second.empty()) {
    return std::unexpected(Bad("parameter 'password' is required"));
  }
  if (pass->second.size() > kMaxPasswordBytes) {
    return std::unexpected(Bad("parameter 'password' is too long"));
  }
  request.password = std::move(pass->second);
  sodium_memzero(pass->second.data(), pass->second.size());
  if (auto flag = params.find("http-only"); flag != params.end()) {
    auto value = http::ParseBool(flag->second);
    if (!value) return std::unexpected(Bad("parameter 'http-only' must be a boolean"));
    request.http_only = *value;
  }
  return request;
}

}  // namespace tessera::auth

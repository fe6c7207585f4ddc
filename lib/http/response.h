// An HTTP response and the JSON envelope every API answer uses (DESIGN.md, "Envelope and errors").
//
// Success: {"data": ..., "status": 200, "success": true}. Error:
// {"data": null, "message": "...", "status": N, "success": false}. Both are application/json so
// clients that always call .json() keep working.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::http {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Appends a header (several Set-Cookie headers are allowed).
  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// The reason phrase for a status code ("OK", "Not Found"); "Unknown" for codes we never send.
std::string_view ReasonPhrase(int status);

// A success envelope around `data`.
Response JsonData(const nlohmann::json& data, int status = 200);
// An error envelope. `message` is shown to the client: it must hold no secret.
Response JsonError(int status, std::string_view message);

}  // namespace tessera::http

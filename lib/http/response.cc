#include "http/response.h"

#include <algorithm>

namespace tessera::http {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

std::string_view ReasonPhraseOf(const Response& response) {
  const std::string& own = response.reason;
  bool printable =
      !own.empty() && own.size() <= 128 &&
      std::all_of(own.begin(), own.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return printable ? std::string_view(own) : ReasonPhrase(response.status);
}

Response JsonData(const nlohmann::json& data, int status) {
  Response response;
  response.status = status;
  response.AddHeader("Content-Type", "application/json");
  nlohmann::json envelope = {{"data", data}, {"status", status}, {"success", true}};
  response.body = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response JsonError(int status, std::string_view message) {
  Response response;
  response.status = status;
  response.AddHeader("Content-Type", "application/json");
  nlohmann::json envelope = {
      {"data", nullptr}, {"message", message}, {"status", status}, {"success", false}};
  response.body = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response AuthenticationRefused(int status, std::string_view challenge) {
  if (status == 503) return JsonError(503, "service unavailable, try again later");
  if (status == 429) {
    // The account's (or token's) requests in flight hold its share of the worker's threads
    // (auth/fair_share.h); one ends within moments. restic retries on its own.
    Response busy =
        JsonError(429, "too many requests in flight for this account, try again shortly");
    busy.AddHeader("Retry-After", "2");
    return busy;
  }
  Response response = JsonError(401, "authentication failure");
  if (!challenge.empty()) response.AddHeader("WWW-Authenticate", std::string(challenge));
  return response;
}

}  // namespace tessera::http

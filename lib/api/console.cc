#include "api/console.h"

#include <string>

namespace tessera::api {
namespace {
// Sent with every console answer, errors included: an error page framed or sniffed is as
// exploitable as the console itself.
void AddSecurityHeaders(http::Response& response) {
  response.AddHeader("Content-Security-Policy", std::string(kConsoleContentSecurityPolicy));
  response.AddHeader("X-Content-Type-Options", "nosniff");
  response.AddHeader("Referrer-Policy", "no-referrer");
  response.AddHeader("X-Frame-Options", "DENY");
}
}  // namespace

http::Response ServeConsole(std::string_view name) {
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    if (asset.name != name) continue;
    http::Response response;
    response.AddHeader("Content-Type", std::string(asset.content_type));
    // The files are small: no-cache makes every load use the running worker's console, so an
    // upgraded worker never runs beside an old script that speaks an older API.
    response.AddHeader("Cache-Control", "no-cache");
    AddSecurityHeaders(response);
    response.body = std::string(asset.bytes);
    return response;
  }
  http::Response response = http::JsonError(404, "no such resource");
  AddSecurityHeaders(response);
  return response;
}

}  // namespace tessera::api

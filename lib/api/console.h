// The browser console: four static files (lib/api/console/) compiled into the worker and
// served at `/` and `/console/<file>` (DESIGN.md, "Console").
//
// The files are embedded at build time (CMakeLists.txt generates console_assets.cc), so the
// worker reads nothing from disk at run time and the web server needs no document root. Only
// the exact names below are served; any other name is a 404 JSON answer. Every answer, 404
// included, carries the console's security headers: a Content-Security-Policy that allows only
// same-origin scripts, styles, images and fetches (no inline script or style, no framing), and
// nosniff, no-referrer and DENY framing.
#pragma once

#include <span>
#include <string_view>

#include "http/response.h"

namespace tessera::api {

// One embedded file.
struct ConsoleAsset {
  std::string_view name;  // "index.html", "console.css", "console.js", "icon.svg"
  std::string_view content_type;
  std::string_view bytes;
};

// The embedded files (generated at build time). Thread-safe: constant data.
std::span<const ConsoleAsset> ConsoleAssets();

inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// The answer to GET or HEAD of the console file `name` (as captured from the path, already
// percent-decoded): 200 with the bytes, or 404 JSON when no embedded file has exactly that name.
// Thread-safe.
http::Response ServeConsole(std::string_view name);

}  // namespace tessera::api

#include "api/console.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

using namespace tessera::api;

namespace {
std::string Header(const tessera::http::Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

std::string SourceFile(const std::string& name) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/lib/api/console/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void CheckSecurityHeaders(const tessera::http::Response& r) {
  CHECK(Header(r, "Content-Security-Policy") == kConsoleContentSecurityPolicy);
  CHECK(Header(r, "X-Content-Type-Options") == "nosniff");
  CHECK(Header(r, "Referrer-Policy") == "no-referrer");
  CHECK(Header(r, "X-Frame-Options") == "DENY");
}
}  // namespace

TEST_CASE("every console file is embedded byte for byte with its type and headers") {
  struct Want {
    const char* name;
    const char* type;
  };
  for (const Want& w : {Want{"index.html", "text/html; charset=utf-8"},
                        Want{"console.css", "text/css; charset=utf-8"},
                        Want{"console.js", "text/javascript; charset=utf-8"},
                        Want{"icon.svg", "image/svg+xml; charset=utf-8"}}) {
    INFO(w.name);
    auto r = ServeConsole(w.name);
    CHECK(r.status == 200);
    CHECK(r.body == SourceFile(w.name));
    CHECK(!r.body.empty());
    CHECK(Header(r, "Content-Type") == w.type);
    CHECK(Header(r, "Cache-Control") == "no-cache");
    CheckSecurityHeaders(r);
  }
  CHECK(ConsoleAssets().size() == 4);
}

TEST_CASE("a console name that is not exactly an embedded file is a 404 with the headers") {
  for (const char* name : {"", ".", "..", "nope.js", "INDEX.HTML", "index.html ", " index.html",
                           "index.htm", "console.js/", "../console.js"}) {
    INFO(name);
    auto r = ServeConsole(name);
    CHECK(r.status == 404);
    CHECK(Header(r, "Content-Type") == "application/json");
    CheckSecurityHeaders(r);
  }
  CHECK(ServeConsole(std::string_view("console.js\0", 11)).status == 404);
}

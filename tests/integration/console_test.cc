// The browser console (lib/api/console.h) through the shipped nginx and Apache snippets: its
// files come with their security headers, only exact names are served, and a real browser
// (headless Chromium driven by tests/integration/console/console_walk.py) can walk it: sign in,
// mint a token, copy its restic command, which the real restic backs up with, see that
// repository's usage, revoke the token, do the same by keyboard alone, change the password, sign
// out — never seeing the ticket, without a Content-Security-Policy violation, and without
// sideways scrolling at 360 px.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void CheckSecurityHeaders(const httplib::Response& r) {
  CHECK(r.get_header_value("Content-Security-Policy") == kPolicy);
  CHECK(r.get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(r.get_header_value("Referrer-Policy") == "no-referrer");
  CHECK(r.get_header_value("X-Frame-Options") == "DENY");
}

// `exact_length`: the web server keeps the worker's Content-Length (nginx; Apache sends FastCGI
// answers chunked).
void CheckServesConsole(CheckedClient& c, bool exact_length) {
  struct File {
    const char* path;
    const char* type;
    const char* needle;
  };
  for (const File& f :
       {File{"/", "text/html; charset=utf-8", "/console/console.js"},
        File{"/console/index.html", "text/html; charset=utf-8", "<!doctype html>"},
        File{"/console/console.js", "text/javascript; charset=utf-8", "'use strict'"},
        File{"/console/console.css", "text/css; charset=utf-8", ":root"},
        File{"/console/icon.svg", "image/svg+xml; charset=utf-8", "<svg"}}) {
    INFO(f.path);
    auto r = c.Get(f.path);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == f.type);
    CHECK(r->get_header_value("Cache-Control") == "no-cache");
    CHECK(r->body.find(f.needle) != std::string::npos);
    CheckSecurityHeaders(*r);

    auto head = c.Head(f.path);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    if (exact_length) {
      CHECK(head->get_header_value("Content-Length") == std::to_string(r->body.size()));
    }
    CheckSecurityHeaders(*head);
  }
  // Not a byte of markup the policy would block: no inline script, style or handler.
  auto page = c.Get("/");
  for (const char* inline_code : {"<script>", "style=", "<style", "onclick", "javascript:"}) {
    INFO(inline_code);
    CHECK(page->body.find(inline_code) == std::string::npos);
  }

  // Exact names only; every other name is the worker's JSON 404 (or the web server's own 404
  // for a path it normalizes away from /console/). Paths outside / and /console/ are the web
  // server's own site (Debian's Apache serves its /var/www/html/index.html), not ours.
  for (const char* path :
       {"/console/nope.js", "/console/%2e%2e", "/console/", "/console/.", "/console/console.js/",
        "/console/CONSOLE.JS", "/console/a/console.js"}) {
    INFO(path);
    auto r = c.Get(path);
    CHECK(r->status == 404);
  }
  auto not_found = c.Get("/console/nope.js");
  CHECK(not_found->get_header_value("Content-Type") == "application/json");
  CHECK(not_found->body.find("\"success\":false") != std::string::npos);
  CheckSecurityHeaders(*not_found);
  CHECK(c.Get("/console/../x")->status == 404);
  CHECK(c.Get("/console/../console/nope.js")->status == 404);
  CHECK(c.Head("/console/nope.js")->status == 404);

  // GET and HEAD only.
  auto post = c.Post("/", "x=1", "application/x-www-form-urlencoded");
  CHECK(post->status == 405);
  CHECK(post->get_header_value("Allow") == "GET, HEAD");
}
}  // namespace

TEST_CASE("nginx passes / and /console/ to the worker, which serves the console's files only",
          "[console]") {
  Stack stack;
  CheckedClient c = stack.Client();
  CheckServesConsole(c, true);
}

TEST_CASE("Apache passes / and /console/ to the worker like nginx", "[console]") {
  Stack stack;
  Apache apache(stack.dir(), stack.worker().socket(), stack.storage_dir());
  CheckedClient c("127.0.0.1", apache.port());
  c.set_read_timeout(30, 0);
  CheckServesConsole(c, false);
}

TEST_CASE(
    "a browser signs in, mints a token restic backs up with, sees the repository, revokes "
    "the token, also by keyboard, changes the password, signs out",
    "[console]") {
  BackupStack b;
  // The build directory (where the worker binary is), so the screenshots outlive the stack.
  const std::string screens =
      (fs::path(TESSERA_FCGI_BIN).parent_path() / "console-screens").string();
  std::error_code ec;
  fs::remove_all(screens, ec);
  // A quota and a cap of its own, so the console has bars to show (its usage against both).
  b.stack->pg().Sql(
      "UPDATE accounts SET quota_bytes = 4 * 1024 * 1024, repo_max_count = 10 "
      "WHERE userid = 'alice@pbs'");
  // The walk runs restic (from PATH) with the token it mints, and measures the repository in the
  // worker's storage directory to check the usage the console shows.
  RunResult walk = Run({"/usr/bin/python3",
                        TESSERA_SOURCE_DIR "/tests/integration/console/console_walk.py",
                        "--url",
                        "http://127.0.0.1:" + std::to_string(b.stack->port()) + "/",
                        "--user",
                        "alice@pbs",
                        "--password",
                        "pw",
                        "--new-password",
                        "a walk in the console 2026",
                        "--screens",
                        screens,
                        "--restic",
                        "restic",
                        "--storage",
                        b.stack->storage_dir(),
                        "--quota",
                        std::to_string(4 * 1024 * 1024),
                        "--repo-cap",
                        "10"});
  INFO(walk.output);
  CHECK(walk.status == 0);
}

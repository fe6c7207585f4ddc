#include "auth/login_request.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tessera;

namespace {
std::expected<auth::LoginRequest, http::Problem> Parse(http::Params params) {
  return auth::ParseLoginRequest(params);
}

http::Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  http::Request r;
  r.method = http::Method::kPost;
  r.headers = std::move(headers);
  return r;
}
}  // namespace

TEST_CASE("a well-formed login request parses") {
  auto r = Parse({{"username", "alice@pbs"},
                  {"password", "p\xc3\xa4ss word"},
                  {"http-only", "1"},
                  {"realm", "pbs"},
                  {"port", "8007"}});
  REQUIRE(r);
  CHECK(r->username == "alice@pbs");
  CHECK(r->password == "p\xc3\xa4ss word");
  CHECK(r->http_only);
}

TEST_CASE("every login field is checked as text and its 400 names it") {
  struct Case {
    http::Params params;
    std::string message;
  };
  const std::string pw = "pw";
  const std::vector<Case> cases = {
      {{{"password", pw}}, "parameter 'username' is required"},
      {{{"username", "alice@pbs"}}, "parameter 'password' is required"},
      {{{"username", "al\xffice@pbs"}, {"password", pw}},
       "parameter 'username' is not valid UTF-8"},
      {{{"username", "al\x01ice@pbs"}, {"password", pw}},
       "parameter 'username' contains a control character"},
      {{{"username", "al\xc2\x85ice@pbs"}, {"password", pw}},
       "parameter 'username' contains a control character"},
      {{{"username", std::string(61, 'a') + "@pbs"}, {"password", pw}},
       "parameter 'username' is too long"},
      {{{"username", "alice"}, {"password", pw}},
       "parameter 'username' is not a valid userid (name@realm)"},
      {{{"username", "a:b@pbs"}, {"password", pw}},
       "parameter 'username' is not a valid userid (name@realm)"},
      {{{"username", "alice@pbs"}, {"password", "p\xc0\xafw"}},
       "parameter 'password' is not valid UTF-8"},
      {{{"username", "alice@pbs"}, {"password", "p\nw"}},
       "parameter 'password' contains a control character"},
      {{{"username", "alice@pbs"}, {"password", std::string(4097, 'p')}},
       "parameter 'password' is too long"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"realm", "p\x7f"}},
       "parameter 'realm' contains a control character"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"path", "\xe2\x82"}},
       "parameter 'path' is not valid UTF-8"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"privs", std::string(257, 'x')}},
       "parameter 'privs' is too long"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"tfa-challenge", "\x1b[31m"}},
       "parameter 'tfa-challenge' contains a control character"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"http-only", "maybe"}},
       "parameter 'http-only' must be a boolean"},
      {{{"username", "alice@pbs"}, {"password", pw}, {"evil\xff", "1"}},
       "unknown parameter 'evil?'"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    auto r = Parse(c.params);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message == c.message);
  }
}

TEST_CASE("logins from another site are refused; same-origin and header-less ones pass") {
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {{}, true},  // API client, curl
      {{{"host", "backup.example.org"}}, true},
      {{{"sec-fetch-site", "same-origin"}}, true},
      {{{"sec-fetch-site", "none"}}, true},
      {{{"sec-fetch-site", "Same-Origin"}}, true},
      {{{"sec-fetch-site", "same-site"}}, false},
      {{{"sec-fetch-site", "cross-site"}}, false},
      {{{"sec-fetch-site", "bogus"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "https://backup.example.org"}}, true},
      {{{"host", "Backup.Example.org"}, {"origin", "https://backup.example.ORG"}}, true},
      {{{"host", "backup.example.org:8443"}, {"origin", "https://backup.example.org:8443"}}, true},
      {{{"host", "backup.example.org:443"}, {"origin", "https://backup.example.org"}}, true},
      {{{"host", "backup.example.org"}, {"origin", "http://backup.example.org:80"}}, true},
      {{{"host", "[::1]:8007"}, {"origin", "https://[::1]:8007"}}, true},
      {{{"host", "backup.example.org"},
        {"origin", "https://backup.example.org"},
        {"sec-fetch-site", "same-origin"}},
       true},
      {{{"host", "backup.example.org"}, {"origin", "https://evil.example"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "https://backup.example.org.evil.example"}},
       false},
      // nginx (Debian's fastcgi_params) passes Host without its port: any port of the host passes.
      {{{"host", "backup.example.org"}, {"origin", "https://backup.example.org:8007"}}, true},
      {{{"host", "backup.example.org:8443"}, {"origin", "https://backup.example.org"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "null"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "ftp://backup.example.org"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "https://user@backup.example.org"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "https://backup.example.org/path"}}, false},
      {{{"host", "backup.example.org"}, {"origin", "https://backup.example.org:"}}, false},
      {{{"host", "backup.example.org"}, {"origin", ""}}, false},
      {{{"origin", "https://backup.example.org"}}, false},  // no Host to compare with
      {{{"host", "backup.example.org"},
        {"origin", "https://backup.example.org"},
        {"sec-fetch-site", "cross-site"}},
       false},
  };
  for (const auto& c : cases) {
    std::string shown;
    for (const auto& [k, v] : c.headers) shown += k + ": " + v + "; ";
    INFO(shown);
    auto r = auth::CheckLoginOrigin(WithHeaders(c.headers));
    CHECK(r.has_value() == c.allowed);
    if (!r) {
      CHECK(r.error().status == 403);
      CHECK(r.error().message == "cross-site login refused");
    }
  }
}

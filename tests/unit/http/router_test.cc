#include "http/router.h"

#include <catch2/catch.hpp>
#include <string>

#include "http/response.h"

using namespace tessera::http;
namespace http = tessera::http;

namespace {
Router MakeRouter(std::string* seen) {
  Router r;
  r.Add(Method::kGet, "/api2/json/version", [seen](Request&, const PathParams&) {
    *seen = "version";
    return JsonData("v");
  });
  r.Add(Method::kDelete, "/api2/json/access/tokens/{id}", [seen](Request&, const PathParams& p) {
    *seen = "token " + p.at("id");
    return JsonData({});
  });
  r.Add(Method::kPost, "/backup/{rest*}", [seen](Request&, const PathParams& p) {
    *seen = "backup " + p.at("rest");
    return JsonData({});
  });
  return r;
}

Response Send(const Router& r, Method m, std::string path) {
  Request req;
  req.method = m;
  req.path = std::move(path);
  return r.Dispatch(req);
}
}  // namespace

TEST_CASE("router finds literal and captured routes") {
  std::string seen;
  Router r = MakeRouter(&seen);
  CHECK(Send(r, Method::kGet, "/api2/json/version").status == 200);
  CHECK(seen == "version");
  CHECK(Send(r, Method::kDelete, "/api2/json/access/tokens/a%20b").status == 200);
  CHECK(seen == "token a b");
  CHECK(Send(r, Method::kPost, "/backup/alice/laptop/data/").status == 200);
  CHECK(seen == "backup alice/laptop/data/");
}

TEST_CASE("router sends HEAD to the GET handler") {
  std::string seen;
  Router r = MakeRouter(&seen);
  CHECK(Send(r, Method::kHead, "/api2/json/version").status == 200);
  CHECK(seen == "version");
}

TEST_CASE("router answers 404 for unknown paths and 405 with Allow for wrong methods") {
  std::string seen;
  Router r = MakeRouter(&seen);
  CHECK(Send(r, Method::kGet, "/api2/json/nothing").status == 404);
  CHECK(Send(r, Method::kGet, "/api2/json/version/").status == 404);
  Response wrong = Send(r, Method::kPost, "/api2/json/version");
  CHECK(wrong.status == 405);
  REQUIRE(wrong.headers.size() == 2);
  CHECK(wrong.headers[1].first == "Allow");
  CHECK(wrong.headers[1].second == "GET, HEAD");
  CHECK(seen.empty());
}

TEST_CASE("router refuses malformed paths before any handler") {
  std::string seen;
  Router r = MakeRouter(&seen);
  for (const char* bad :
       {"", "relative", "/backup/a%2Fb", "/backup/a%00", "/backup/%zz", "/backup/%2e%2e%2f"}) {
    INFO(bad);
    CHECK(Send(r, Method::kPost, bad).status == 400);
  }
  CHECK(Send(r, Method::kPost, "/" + std::string(5000, 'a')).status == 400);
  CHECK(seen.empty());
}

TEST_CASE("router refuses malformed patterns at start-up") {
  Router r;
  auto h = [](Request&, const PathParams&) { return JsonData({}); };
  CHECK_THROWS_AS(r.Add(Method::kGet, "no-slash", h), std::invalid_argument);
  CHECK_THROWS_AS(r.Add(Method::kGet, "/{rest*}/x", h), std::invalid_argument);
}

TEST_CASE("a response's own reason phrase is sent only when it cannot split the status line") {
  http::Response r = http::JsonError(403, "no");
  CHECK(http::ReasonPhraseOf(r) == "Forbidden");
  r.reason = "Forbidden: repository limit of 64 reached";
  CHECK(http::ReasonPhraseOf(r) == "Forbidden: repository limit of 64 reached");
  for (std::string bad : {std::string("two\r\nlines"), std::string("tab\there"),
                          std::string("caf\xc3\xa9"), std::string(129, 'x')}) {
    INFO(bad);
    r.reason = bad;
    CHECK(http::ReasonPhraseOf(r) == "Forbidden");
  }
}

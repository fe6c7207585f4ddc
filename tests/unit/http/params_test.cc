#include "http/params.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tessera::http;

namespace {
class StringBody : public BodyReader {
 public:
  explicit StringBody(std::string s) : s_(std::move(s)) {}
  std::ptrdiff_t Read(char* buf, std::size_t n) override {
    std::size_t k = std::min(n, s_.size() - pos_);
    std::copy_n(s_.data() + pos_, k, buf);
    pos_ += k;
    return static_cast<std::ptrdiff_t>(k);
  }

 private:
  std::string s_;
  std::size_t pos_ = 0;
};

std::expected<Params, Problem> Post(std::string type, std::string body, std::size_t cap = 1024,
                                    std::optional<std::uint64_t> length = std::nullopt) {
  StringBody reader(body);
  Request req;
  req.method = Method::kPost;
  req.content_type = std::move(type);
  req.content_length = length ? length : std::optional<std::uint64_t>(body.size());
  req.body = &reader;
  return ReadBodyParams(req, cap);
}
}  // namespace

TEST_CASE("form bodies decode names and values") {
  auto p = ParseForm("username=alice%40pbs&password=a+b%26c&http-only=1&&");
  REQUIRE(p);
  CHECK(p->at("username") == "alice@pbs");
  CHECK(p->at("password") == "a b&c");
  CHECK(p->at("http-only") == "1");
  CHECK(ParseForm("flag")->at("flag").empty());
}

TEST_CASE("form errors name the parameter, never the value") {
  struct Case {
    const char* body;
    const char* fragment;
  };
  const Case cases[] = {
      {"a=1&a=2", "'a' given more than once"},
      {"=x", "empty parameter name"},
      {"pass=%zz", "'pass'"},
      {"%zz=1", "parameter name"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = ParseForm(c.body);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message.find(c.fragment) != std::string::npos);
    CHECK(r.error().message.find("zz") == std::string::npos);
  }
  std::string many;
  for (int i = 0; i < 65; ++i) many += "k" + std::to_string(i) + "=1&";
  CHECK(ParseForm(many).error().message == "too many parameters");
  CHECK(ParseForm(std::string(200, 'k') + "=1").error().message == "parameter name too long");
}

TEST_CASE("JSON bodies flatten scalars to text") {
  auto p = ParseJsonParams(R"({"username":"a@pbs","http-only":true,"port":8007})");
  REQUIRE(p);
  CHECK(p->at("http-only") == "true");
  CHECK(p->at("port") == "8007");
}

TEST_CASE("JSON body errors") {
  struct Case {
    const char* body;
    const char* fragment;
  };
  const Case cases[] = {
      {"{", "malformed JSON"},
      {"[]", "must be an object"},
      {R"({"a":1,"a":2})", "repeats a key"},
      {R"({"a":{"b":1}})", "'a' must be a string"},
      {R"({"a":null})", "'a' must be a string"},
      {R"({"a":[[[[[1]]]]]})", "nests too deeply"},
      {"{\"a\":\"x\\u0000\"}", "contains NUL"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = ParseJsonParams(c.body);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message.find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("body parameters are chosen by content type and capped") {
  CHECK(Post("application/x-www-form-urlencoded", "a=1").value().at("a") == "1");
  CHECK(Post("application/json; charset=utf-8", R"({"a":"1"})").value().at("a") == "1");
  CHECK(Post("Application/JSON", R"({"a":"1"})").has_value());
  CHECK(Post("text/plain", "a=1").error().status == 415);
  CHECK(Post("", "a=1").error().status == 415);
  CHECK(Post("", "")->empty());
  // Refused by Content-Length before reading, and by counting when the length lies.
  CHECK(Post("application/json", std::string(2000, ' '), 1024).error().status == 413);
  CHECK(Post("application/json", std::string(2000, ' '), 1024, 10).error().status == 413);
  CHECK(Post("application/json", "{}", 1024, 10).error().status == 400);
}

TEST_CASE("booleans read the way Proxmox reads them") {
  for (const char* t : {"1", "true", "TRUE", "yes", "on", "On"}) CHECK(ParseBool(t) == true);
  for (const char* f : {"0", "false", "no", "off", "OFF"}) CHECK(ParseBool(f) == false);
  for (const char* junk : {"", "2", "y", "truee", "enabled", "true "}) {
    INFO(junk);
    CHECK_FALSE(ParseBool(junk).has_value());
  }
}

TEST_CASE("every form and JSON parameter is well-formed UTF-8, else a 400 naming it") {
  struct Case {
    std::string type, body, message;
  };
  const std::vector<Case> cases = {
      {"application/x-www-form-urlencoded", "username=%FF%40pbs",
       "parameter 'username' is not valid UTF-8"},
      {"application/x-www-form-urlencoded", "password=a%C0%AFb",
       "parameter 'password' is not valid UTF-8"},
      {"application/x-www-form-urlencoded", "realm=%ED%A0%80",
       "parameter 'realm' is not valid UTF-8"},
      {"application/x-www-form-urlencoded", "path=%E2%82", "parameter 'path' is not valid UTF-8"},
      {"application/x-www-form-urlencoded", "path=\xff", "parameter 'path' is not valid UTF-8"},
      {"application/x-www-form-urlencoded", "%FF=1", "malformed parameter name"},
      {"application/x-www-form-urlencoded", "a%01b=1", "malformed parameter name"},
      {"application/json", "{\"username\":\"\xff@pbs\"}", "malformed JSON body"},
      {"application/json", R"({"password":"\ud800"})", "malformed JSON body"},
      {"application/json", "{\"a\x01\":\"1\"}", "malformed JSON body"},
      {"application/json", R"({"a\u0001":"1"})", "malformed parameter name"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = Post(c.type, c.body);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message == c.message);
  }
  // Valid UTF-8 beyond ASCII passes untouched.
  auto ok = Post("application/x-www-form-urlencoded", "username=%C3%BC%40pbs");
  REQUIRE(ok);
  CHECK(ok->at("username") == "\xc3\xbc@pbs");
}

// cpp-httplib for tests, with every answer checked before it is read.
//
// httplib::Result holds no response when the request got no HTTP answer at all (connection
// refused or reset, timeout); `->status` on it dereferences null and takes the whole test binary
// down. CheckedClient's requests return a CheckedResult whose `->` and `*` first REQUIRE an
// answer, so such a failure fails one test case and says which request and why.
#pragma once

#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "harness.h"

namespace tessera::testing {

// An httplib::Result that fails the current test case when read without a response. Testing it
// as a bool (`REQUIRE(r)`, `CHECK_FALSE(r)`) reads nothing and never fails by itself. Off the
// test's own thread, use get() only.
class CheckedResult {
 public:
  CheckedResult(httplib::Result result, std::string request)
      : result_(std::move(result)), request_(std::move(request)) {}

  explicit operator bool() const { return static_cast<bool>(result_); }
  const httplib::Response* operator->() const { return &**this; }
  const httplib::Response& operator*() const {
    INFO(request_ << " got no answer: " << httplib::to_string(result_.error()));
    REQUIRE(static_cast<bool>(result_));
    return *result_;
  }
  httplib::Error error() const { return result_.error(); }
  // The response, or null when there was none — without touching Catch2, whose assertions and
  // messages are not thread-safe: the only way to read a result on a thread the test started.
  const httplib::Response* get() const { return result_ ? &*result_ : nullptr; }

 private:
  httplib::Result result_;
  std::string request_;  // "GET /path", for the failure message
};

// An httplib::Client whose Get, Head, Post, Put and Delete return CheckedResult (they hide the
// base class's); settings (timeouts, auth) are the base class's own.
class CheckedClient : public httplib::Client {
 public:
  CheckedClient(httplib::Client&& client)
      : httplib::Client(std::move(client)) {}  // NOLINT: implicit
  CheckedClient(const std::string& host, int port) : httplib::Client(host, port) {}

  template <typename... Args>
  CheckedResult Get(const std::string& path, Args&&... args) {
    return {httplib::Client::Get(path, std::forward<Args>(args)...), "GET " + path};
  }
  template <typename... Args>  // headers as a braced list, which a pack cannot deduce
  CheckedResult Get(const std::string& path, const httplib::Headers& headers, Args&&... args) {
    return {httplib::Client::Get(path, headers, std::forward<Args>(args)...), "GET " + path};
  }
  template <typename... Args>
  CheckedResult Head(const std::string& path, Args&&... args) {
    return {httplib::Client::Head(path, std::forward<Args>(args)...), "HEAD " + path};
  }
  template <typename... Args>  // headers as a braced list, which a pack cannot deduce
  CheckedResult Head(const std::string& path, const httplib::Headers& headers, Args&&... args) {
    return {httplib::Client::Head(path, headers, std::forward<Args>(args)...), "HEAD " + path};
  }
  template <typename... Args>
  CheckedResult Post(const std::string& path, Args&&... args) {
    return {httplib::Client::Post(path, std::forward<Args>(args)...), "POST " + path};
  }
  template <typename... Args>  // headers as a braced list, which a pack cannot deduce
  CheckedResult Post(const std::string& path, const httplib::Headers& headers, Args&&... args) {
    return {httplib::Client::Post(path, headers, std::forward<Args>(args)...), "POST " + path};
  }
  template <typename... Args>
  CheckedResult Put(const std::string& path, Args&&... args) {
    return {httplib::Client::Put(path, std::forward<Args>(args)...), "PUT " + path};
  }
  template <typename... Args>  // headers as a braced list, which a pack cannot deduce
  CheckedResult Put(const std::string& path, const httplib::Headers& headers, Args&&... args) {
    return {httplib::Client::Put(path, headers, std::forward<Args>(args)...), "PUT " + path};
  }
  template <typename... Args>
  CheckedResult Delete(const std::string& path, Args&&... args) {
    return {httplib::Client::Delete(path, std::forward<Args>(args)...), "DELETE " + path};
  }
  template <typename... Args>  // headers as a braced list, which a pack cannot deduce
  CheckedResult Delete(const std::string& path, const httplib::Headers& headers, Args&&... args) {
    return {httplib::Client::Delete(path, headers, std::forward<Args>(args)...), "DELETE " + path};
  }
};

// What POST /api2/json/access/ticket answered a form login (or a renewal: the ticket as the
// password): the status, and the ticket and CSRF token on 200, Retry-After on 429.
struct PasswordLogin {
  int status = 0;
  std::string ticket, csrf, retry_after;
};

inline PasswordLogin LogIn(CheckedClient& c, const std::string& userid,
                           const std::string& password) {
  auto r = c.Post("/api2/json/access/ticket",
                  "username=" + FormEncode(userid) + "&password=" + FormEncode(password),
                  "application/x-www-form-urlencoded");
  PasswordLogin out{r->status, "", "", r->get_header_value("Retry-After")};
  if (r->status == 200) {
    nlohmann::json data = nlohmann::json::parse(r->body)["data"];
    out.ticket = data["ticket"];
    out.csrf = data["CSRFPreventionToken"];
  }
  return out;
}

}  // namespace tessera::testing

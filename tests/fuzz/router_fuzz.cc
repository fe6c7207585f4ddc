// Fuzz target for request routing: a method and a raw path (as REQUEST_URI delivers it) go through
// a router holding the worker's own route shapes, and a captured backup path through the restic
// target parser. Beyond crashes and sanitizer reports it checks the router's promises: only 200,
// 400, 404 or 405 come back, a 405 names the allowed methods, and a handler only ever sees a
// request whose decoded segments hold no '/' or NUL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "backup/repo_path.h"
#include "http/router.h"

namespace {
using namespace tessera;

http::Response Ok(const http::PathParams& params) {
  for (const auto& [name, value] : params) {
    // {rest*} joins segments with '/'; a single segment must never carry one.
    if (name != "rest" && value.find('/') != std::string::npos) std::abort();
    if (value.find('\0') != std::string::npos) std::abort();
  }
  if (auto rest = params.find("rest"); rest != params.end()) {
    auto target = backup::ParseTarget(rest->second);
    if (target && !backup::IsRepoPath(target->repo)) std::abort();
  }
  return http::Response{};
}

const http::Router& TheRouter() {
  static const http::Router router = [] {
    http::Router r;
    auto ok = [](http::Request&, const http::PathParams& p) { return Ok(p); };
    r.Add(http::Method::kGet, "/api2/json/version", ok);
    r.Add(http::Method::kGet, "/api2/json/health", ok);
    r.Add(http::Method::kPost, "/api2/json/access/ticket", ok);
    r.Add(http::Method::kDelete, "/api2/json/access/ticket", ok);
    r.Add(http::Method::kGet, "/api2/json/access/whoami", ok);
    r.Add(http::Method::kDelete, "/api2/json/access/tokens/{name}", ok);
    for (auto m :
         {http::Method::kGet, http::Method::kHead, http::Method::kPost, http::Method::kDelete}) {
      r.Add(m, "/backup/{rest*}", ok);
    }
    return r;
  }();
  return router;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr http::Method kMethods[] = {
      http::Method::kGet,    http::Method::kHead,    http::Method::kPost,  http::Method::kPut,
      http::Method::kDelete, http::Method::kOptions, http::Method::kPatch, http::Method::kOther};
  http::Request request;
  request.method = kMethods[data[0] % 8];
  request.path.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::Response response = TheRouter().Dispatch(request);
  switch (response.status) {
    case 200:
    case 400:
    case 404:
      break;
    case 405: {
      bool allow = false;
      for (const auto& [name, value] : response.headers)
        allow = allow || (name == "Allow" && !value.empty());
      if (!allow) std::abort();
      break;
    }
    default:
      std::abort();
  }
  return 0;
}

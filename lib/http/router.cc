#include "http/router.h"

#include <stdexcept>

#include "http/percent.h"

namespace tessera::http {
namespace {
constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxSegments = 32;

bool IsCapture(std::string_view s) { return s.size() >= 3 && s.front() == '{' && s.back() == '}'; }
}  // namespace

bool SplitPath(std::string_view raw, std::vector<std::string>* segments) {
  segments->clear();
  if (raw.empty() || raw.front() != '/' || raw.size() > kMaxPathBytes) return false;
  raw.remove_prefix(1);
  for (;;) {
    std::size_t slash = raw.find('/');
    auto decoded = PercentDecode(raw.substr(0, slash), /*plus_is_space=*/false);
    if (!decoded || decoded->find('/') != std::string::npos) return false;
    segments->push_back(std::move(*decoded));
    if (segments->size() > kMaxSegments) return false;
    if (slash == std::string_view::npos) break;
    raw.remove_prefix(slash + 1);
  }
  return true;
}

void Router::Add(Method method, std::string_view pattern, Handler handler) {
  Route route{method, std::string(pattern), {}, false, std::move(handler)};
  if (!SplitPath(pattern, &route.segments)) throw std::invalid_argument("bad route pattern");
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& s = route.segments[i];
    if (IsCapture(s) && s[s.size() - 2] == '*') {
      if (i + 1 != route.segments.size()) throw std::invalid_argument("{rest*} must be last");
      route.rest = true;
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::Match(const Route& route, const std::vector<std::string>& path, PathParams* params) {
  const auto& segs = route.segments;
  std::size_t fixed = route.rest ? segs.size() - 1 : segs.size();
  if (route.rest ? path.size() < fixed : path.size() != fixed) return false;
  for (std::size_t i = 0; i < fixed; ++i) {
    if (IsCapture(segs[i])) {
      (*params)[segs[i].substr(1, segs[i].size() - 2)] = path[i];
    } else if (segs[i] != path[i]) {
      return false;
    }
  }
  if (route.rest) {
    std::string rest;
    for (std::size_t i = fixed; i < path.size(); ++i) {
      if (i > fixed) rest.push_back('/');
      rest += path[i];
    }
    const std::string& s = segs.back();
    (*params)[s.substr(1, s.size() - 3)] = std::move(rest);
  }
  return true;
}

Response Router::Dispatch(Request& request) const {
  std::vector<std::string> path;
  if (!SplitPath(request.path, &path)) return JsonError(400, "malformed request path");

  const Route* get_route = nullptr;
  PathParams get_params;
  std::string allow;
  bool allow_has_get = false;
  bool allow_has_head = false;
  for (const Route& route : routes_) {
    PathParams params;
    if (!Match(route, path, &params)) continue;
    if (route.method == request.method) {
      request.access.route = route.pattern;
      return route.handler(request, params);
    }
    if (route.method == Method::kGet && request.method == Method::kHead && get_route == nullptr) {
      get_route = &route;
      get_params = std::move(params);
    }
    if (!allow.empty()) allow += ", ";
    allow += MethodName(route.method);
    allow_has_get = allow_has_get || route.method == Method::kGet;
    allow_has_head = allow_has_head || route.method == Method::kHead;
  }
  if (get_route != nullptr) {
    request.access.route = get_route->pattern;
    return get_route->handler(request, get_params);
  }
  if (allow.empty()) return JsonError(404, "no such resource");
  if (allow_has_get && !allow_has_head) allow += ", HEAD";
  Response response = JsonError(405, "method not allowed");
  response.AddHeader("Allow", allow);
  return response;
}

}  // namespace tessera::http

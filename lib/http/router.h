// Routes requests to handlers by method and path.
//
// Patterns are written as paths whose segments are literals, `{name}` (one segment, captured) or
// a final `{name*}` (the rest of the path, captured as decoded segments joined by '/'). The request
// path is split at '/', and each segment is percent-decoded strictly; a segment that decodes to
// '/' or NUL, or a path not starting with '/', is a 400 before any handler runs. A trailing '/' is
// significant (it yields a final empty segment). HEAD falls back to the GET handler (the adapter
// drops the body). A path that matches with another method answers 405 with `Allow`.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace tessera::http {

using PathParams = std::map<std::string, std::string, std::less<>>;
using Handler = std::function<Response(Request&, const PathParams&)>;

class Router {
 public:
  // Registers a handler. Patterns are checked at start-up: a malformed one throws
  // std::invalid_argument (a programming error).
  void Add(Method method, std::string_view pattern, Handler handler);

  // Finds and runs the handler (noting its pattern in request.access.route). Returns 400 for a
  // malformed path, 404 when no pattern matches, 405 (with Allow) when one matches with other
  // methods. Exceptions from handlers propagate to
  // the caller's fence.
  Response Dispatch(Request& request) const;

 private:
  struct Route {
    Method method;
    std::string pattern;  // as registered: the access log's name for the route
    std::vector<std::string> segments;
    bool rest = false;  // last segment is {name*}
    Handler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string>& path, PathParams* params);
  std::vector<Route> routes_;
};

// Splits and decodes a raw path. Returns false for a malformed path.
bool SplitPath(std::string_view raw, std::vector<std::string>* segments);

}  // namespace tessera::http

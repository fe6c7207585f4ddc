// The HTTP API: the routes of DESIGN.md bound to their handlers.
//
// One App per worker thread, holding that thread's database. Handle() never throws for bad
// input (that is an error answer); exceptions only escape for bugs, which the adapter's fence
// turns into a 500.
#pragma once

#include <string>

#include "config/config.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "store/database.h"

namespace tessera::api {

inline constexpr std::string_view kVersion = "0.1.0";

class App {
 public:
  // `db` must outlive the App.
  App(const config::Config& config, store::Database& db);

  http::Response Handle(http::Request& request) const { return router_.Dispatch(request); }

 private:
  http::Response Version() const;
  http::Response Health() const;
  http::Response Login(http::Request& request) const;

  const config::Config& config_;
  store::Database& db_;
  http::Router router_;
  std::string version_body_;  // /version never changes: rendered once
};

}  // namespace tessera::api

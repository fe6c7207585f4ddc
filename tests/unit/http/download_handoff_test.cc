#include "http/download_handoff.h"

#include <catch2/catch.hpp>

using tessera::http::HandoffKind;
using tessera::http::ParseDownloadHandoff;

TEST_CASE("the two handoff forms the shipped snippets send are read") {
  auto accel = ParseDownloadHandoff("x-accel-redirect /_tessera/objects/");
  REQUIRE(accel);
  CHECK(accel->kind == HandoffKind::kAccelRedirect);
  CHECK(accel->location == "/_tessera/objects/");
  auto single = ParseDownloadHandoff("x-accel-redirect /o/");
  REQUIRE(single);
  CHECK(single->location == "/o/");
  CHECK(single->remote_location.empty());
  auto both = ParseDownloadHandoff("x-accel-redirect /_tessera/objects/ /_tessera/remote/");
  REQUIRE(both);
  CHECK(both->location == "/_tessera/objects/");
  CHECK(both->remote_location == "/_tessera/remote/");
  auto sendfile = ParseDownloadHandoff("x-sendfile");
  REQUIRE(sendfile);
  CHECK(sendfile->kind == HandoffKind::kSendfile);
  CHECK(sendfile->location.empty());
}

TEST_CASE("any other handoff value is refused, so the worker streams") {
  const std::string too_long = "x-accel-redirect /" + std::string(200, 'a') + "/";
  for (std::string_view bad : {
           "",
           "none",
           "X-Sendfile",                          // kinds are lower case
           "x-sendfile ",                         // extra words
           "x-sendfile /path",                    //
           "x-accel-redirect",                    // no location
           "x-accel-redirect ",                   //
           "x-accel-redirect /",                  // no segment
           "x-accel-redirect _tessera/objects/",  // relative
           "x-accel-redirect /_tessera/objects",  // no trailing '/'
           "x-accel-redirect /a//b/",             // empty segment
           "x-accel-redirect /a/./b/",            // dot segments
           "x-accel-redirect /a/../b/",           //
           "x-accel-redirect /../",               //
           "x-accel-redirect /a b/",              // bytes a URI would need escaped
           "x-accel-redirect /a%2f/",             //
           "x-accel-redirect /a?b/",              //
           "x-accel-redirect /a/\n",              //
           "x-accel-redirect  /a/",               // two spaces
           "x-accel-redirect /a/ /b/ /c/",        // extra words
           "x-accel-redirect /a/  /b/",           // two spaces
           "x-accel-redirect /a/ ",               // an empty remote location
           "x-accel-redirect /a/ b/",             // a relative one
           "x-accel-redirect /a/ /../",           // a dot segment
           "x-accel-redirect /a/ /b",             // no trailing '/'
           "x-accel-redirect /a /b/",             // the first without it
       }) {
    INFO("'" << bad << "'");
    CHECK_FALSE(ParseDownloadHandoff(bad));
  }
  CHECK_FALSE(ParseDownloadHandoff(too_long));
}

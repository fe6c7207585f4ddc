// Fuzz target for every parser of network input in lib/http and lib/json: request paths,
// percent-encoding, form and JSON parameters, cookies, and the login parameter check. The first
// byte picks the parser so one corpus serves all. Crashes, leaks and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "auth/login_request.h"
#include "http/cookies.h"
#include "http/params.h"
#include "http/percent.h"
#include "http/router.h"
#include "json/strict_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace tessera;
  switch (data[0] % 6) {
    case 0: {
      std::vector<std::string> segments;
      (void)http::SplitPath(input, &segments);
      break;
    }
    case 1:
      (void)http::PercentDecode(input, data[0] & 0x80);
      break;
    case 2: {
      auto params = http::ParseForm(input);
      if (params) (void)auth::ParseLoginRequest(*params);
      break;
    }
    case 3: {
      auto params = http::ParseJsonParams(input);
      if (params) (void)auth::ParseLoginRequest(*params);
      break;
    }
    case 4:
      (void)http::ParseCookies(input);
      break;
    case 5:
      (void)json::ParseStrict(input);
      break;
  }
  return 0;
}

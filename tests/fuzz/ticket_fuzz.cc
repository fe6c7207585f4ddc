// Fuzz target for the ticket API's parsers: tickets, CSRF tokens, userids, and the cookie path
// (Cookie header → percent-decoding → ticket verification).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "crypto/csrf.h"
#include "crypto/ticket.h"
#include "http/cookies.h"
#include "names/userid.h"

namespace {
using namespace tessera;
constexpr std::int64_t kNow = 1800000000;

struct State {
  crypto::TicketKeys keys{*crypto::SecretKey::FromSeed(std::vector<std::uint8_t>(32, 3)), {}};
  crypto::CsrfKey csrf = *crypto::CsrfKey::FromBytes(std::vector<std::uint8_t>(32, 4));
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State state;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      (void)state.keys.Verify(input, kNow);
      (void)crypto::TicketInfo(input);
      break;
    case 1:
      (void)state.csrf.Verify(input, "alice@pbs", kNow);
      break;
    case 2:
      (void)names::IsValidUserid(input);
      break;
    case 3: {
      auto cookies = http::ParseCookies(input);
      if (!cookies) break;
      auto value = http::FindCookie(*cookies, "__Host-PBSAuthCookie");
      if (!value) break;
      auto decoded = http::DecodeCookieValue(*value);
      if (decoded) (void)state.keys.Verify(*decoded, kNow);
      break;
    }
  }
  return 0;
}

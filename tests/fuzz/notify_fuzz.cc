// Fuzz target for NOTIFY payloads (store/notification.h): any database role can send them. The
// first byte picks the channel (or an arbitrary one), the rest is the payload. Also feeds the
// row-text parsers the loader uses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/notification.h"
#include "store/sql_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::store;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)ParseNotification(kAccountsChannel, input);
      break;
    case 1:
      (void)ParseNotification(kTokensChannel, input);
      break;
    case 2:
      (void)ParseNotification(kRevocationsChannel, input);
      break;
    case 3: {
      std::size_t cut = input.find('\n');
      std::string_view channel = input.substr(0, cut);
      std::string_view payload =
          cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1);
      (void)ParseNotification(channel, payload);
      break;
    }
    default:
      (void)ParseEpochSeconds(input);
      (void)ParseSqlBool(input);
      break;
  }
  (void)LogSafePrefix(input);
  return 0;
}

// Fuzz target for the backup endpoints' parsers of network input: the path after /backup/, the
// Range header, and the Authorization header (Bearer and Basic).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/bearer.h"
#include "backup/range.h"
#include "backup/repo_path.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace tessera;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)backup::ParseTarget(input);
      break;
    case 1: {
      backup::ByteRange r;
      (void)backup::ResolveRange(input, 1000000, &r);
      (void)backup::ResolveRange(input, 0, &r);
      break;
    }
    case 2: {
      http::Request request;
      request.headers.emplace_back("authorization", std::string(input));
      (void)auth::BearerFromRequest(request);
      break;
    }
  }
  return 0;
}

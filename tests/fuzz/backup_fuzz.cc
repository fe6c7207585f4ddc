// Fuzz target for the backup endpoints' parsers of network input: the path after /backup/ (and
// the repository-path grammar it rests on), the Range header, and the Authorization header
// (Bearer, Basic and PBSAPIToken). Besides not crashing, the path parser must keep its promises:
// whatever it accepts names a valid repository path and reassembles to the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/bearer.h"
#include "backup/range.h"
#include "backup/repo_path.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

void CheckTarget(std::string_view input) {
  using namespace tessera::backup;
  auto t = ParseTarget(input);
  if (t) {
    Require(IsRepoPath(t->repo));
    std::string back = t->repo + "/";
    switch (t->kind) {
      case Kind::kRepo:
        break;
      case Kind::kConfig:
        back += "config";
        break;
      case Kind::kList:
        Require(IsObjectType(t->type));
        back += t->type + "/";
        break;
      case Kind::kObject:
        Require(IsObjectType(t->type) && IsObjectName(t->name));
        back += t->type + "/" + t->name;
        break;
    }
    Require(back == input);
  }
  if (IsRepoPath(input)) {
    Require(input.size() <= kMaxRepoPathBytes);
    auto repo = ParseTarget(std::string(input) + "/");
    Require(repo && repo->kind == Kind::kRepo && repo->repo == input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace tessera;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckTarget(input);
      break;
    case 1: {
      // A resolved range always lies inside the object.
      for (std::uint64_t object : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000000}}) {
        auto r = backup::ResolveRange(input, object);
        if (r && (r->bytes.offset > object || r->bytes.length > object - r->bytes.offset))
          std::abort();
      }
      break;
    }
    case 2: {
      http::Request request;
      request.headers.emplace_back("authorization", std::string(input));
      (void)auth::BearerFromRequest(request);
      // A PBSAPIToken's parts never hold what separates them, and rebuild the header.
      if (auto api = auth::ApiTokenFromRequest(request)) {
        Require(!api->userid.empty() && !api->name.empty() && !api->token.empty());
        Require(api->userid.find(':') == std::string::npos);
        Require(api->name.find_first_of("!:") == std::string::npos);
        Require("PBSAPIToken=" + api->userid + "!" + api->name + ":" + api->token == input);
      }
      break;
    }
  }
  return 0;
}

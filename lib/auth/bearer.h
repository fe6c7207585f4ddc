// The bearer token of a request (DESIGN.md, "Backup API"): `Authorization: Bearer <token>`, or
// `Authorization: Basic base64(user:token)` because restic only speaks basic auth (the user part
// is ignored; the token says who the client is). Returns nullopt when neither is present or the
// header is malformed. The token is still untrusted.
#pragma once

#include <optional>
#include <string>

#include "http/request.h"

namespace tessera::auth {

std::optional<std::string> BearerFromRequest(const http::Request& request);

}  // namespace tessera::auth

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

// A Proxmox API token (DESIGN.md, "Ticket-authenticated API"):
// `Authorization: PBSAPIToken=<userid>!<name>:<token>`, as Proxmox API clients send it. The userid
// holds no ':', the name neither '!' nor ':', so the first ':' ends the userid and name and the
// last '!' before it splits them. Nothing in it is trusted yet.
struct ApiTokenCredential {
  std::string userid;
  std::string name;
  std::string token;
};
std::optional<ApiTokenCredential> ApiTokenFromRequest(const http::Request& request);

}  // namespace tessera::auth

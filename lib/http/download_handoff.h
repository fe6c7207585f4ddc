// Download handoff: the web server in front serves a stored object's bytes itself once the worker
// has authorized the request, so downloads move at the web server's speed (sendfile, its own
// buffers and slow-client handling) and no worker thread sits in the transfer.
//
// The web server says what it can take over in the FastCGI parameter TESSERA_DOWNLOAD_HANDOFF
// (set by the shipped snippets; a client cannot set it: client headers arrive as HTTP_*):
//
//   x-accel-redirect <location> [<remote location>]
//                                 nginx: answer with `X-Accel-Redirect: <location><relative path>`;
//                                 <location> is an `internal` location aliasing the storage
//                                 directory, written as an absolute URI path ending in '/'. For
//                                 an object in a remote store (S3), when <remote location> is
//                                 given: `X-Accel-Redirect: <remote location>` with the object's
//                                 short-lived presigned URL in `X-Tessera-Remote-Url`, which that
//                                 internal location proxies to
//   x-sendfile                    Apache with mod_xsendfile: answer with
//                                 `X-Sendfile: <absolute file path>`
//
// Without the parameter (or with a value this parser refuses) the worker streams the object
// itself. Only a path the worker computed from validated names is ever handed over.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::http {

inline constexpr std::string_view kDownloadHandoffParam = "TESSERA_DOWNLOAD_HANDOFF";
// The response header carrying a presigned URL to the remote location (never sent to clients:
// nginx consumes the answer that holds it).
inline constexpr std::string_view kRemoteUrlHeader = "X-Tessera-Remote-Url";
inline constexpr std::size_t kMaxHandoffLocationBytes = 128;

enum class HandoffKind { kNone, kAccelRedirect, kSendfile };

struct DownloadHandoff {
  HandoffKind kind = HandoffKind::kNone;
  // kAccelRedirect: the internal location, "/" + segments of [A-Za-z0-9._-] + "/"; never a "."
  // or ".." segment.
  std::string location;
  // kAccelRedirect: the internal location that fetches a remote object's presigned URL (the
  // same grammar), or empty when the web server offers none.
  std::string remote_location;
};

// Parses the parameter's value strictly. Returns nullopt for anything but the two forms above
// (unknown kind, a location that is relative, lacks the trailing '/', holds another byte, is
// longer than kMaxHandoffLocationBytes, words apart by more than one space, or extra words).
std::optional<DownloadHandoff> ParseDownloadHandoff(std::string_view value);

}  // namespace tessera::http

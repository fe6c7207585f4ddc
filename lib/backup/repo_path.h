// What a backup URL names (restic REST protocol, doc/REST_backend.rst), after /backup/:
//
//   <repo>/                 POST ?create=true: create the repository (trailing '/' required)
//   <repo>/config           HEAD | GET | POST
//   <repo>/<type>/          GET: list (v1 names, v2 names and sizes)
//   <repo>/<type>/<name>    HEAD | GET | POST | DELETE
//
// <repo> is one to four components of [A-Za-z0-9_-][A-Za-z0-9._-]{0,63} (no leading dot, so no
// "." or ".."); <type> is data, keys, locks, snapshots or index; <name> is 64 lower-case hex
// digits. Everything is checked here, before any path reaches the filesystem.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tessera::backup {

enum class Kind { kRepo, kConfig, kList, kObject };

struct Target {
  Kind kind;
  std::string repo;  // "alice/laptop"
  std::string type;  // for kList and kObject
  std::string name;  // for kObject
};

bool IsObjectType(std::string_view type);
bool IsObjectName(std::string_view name);
bool IsRepoPath(std::string_view repo);

// Parses the decoded path after "/backup/" (the router has already refused encoded slashes and
// NUL). nullopt for anything that is not one of the forms above.
std::optional<Target> ParseTarget(std::string_view rest);

}  // namespace tessera::backup

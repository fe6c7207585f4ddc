// What a backup URL names (restic REST protocol, doc/REST_backend.rst), after /backup/:
//
//   <repo>/                 POST ?create=true: create the repository (trailing '/' required)
//   <repo>/config           HEAD | GET | POST
//   <repo>/<type>/          GET: list (v1 names, v2 names and sizes)
//   <repo>/<type>/<name>    HEAD | GET | POST | DELETE
//
// The repository-path grammar (DESIGN.md, "Repository paths"):
//
//   repo    = segment *3( "/" segment )            ; one to four segments
//   segment = [A-Za-z0-9_-] *63[A-Za-z0-9._-]       ; no leading dot, so no "." or ".."
//   no segment is a reserved word: config, data, keys, locks, snapshots, index
//   the whole path is at most kMaxRepoPathBytes (255) bytes
//
// The reserved words are what a repository holds, so no repository path can name another
// repository's objects ("r1/keys/<hex>" is an object of r1, never a repository of its own), and
// every URL splits into repository and object in exactly one way. <type> is data, keys, locks,
// snapshots or index; <name> is 64 lower-case hex digits. Everything is checked here, before any
// path reaches the filesystem. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::backup {

inline constexpr std::size_t kMaxRepoSegments = 4;
inline constexpr std::size_t kMaxRepoSegmentBytes = 64;
inline constexpr std::size_t kMaxRepoPathBytes = 255;

enum class Kind { kRepo, kConfig, kList, kObject };

struct Target {
  Kind kind;
  std::string repo;  // "alice/laptop"
  std::string type;  // for kList and kObject
  std::string name;  // for kObject
};

// Whether `type` is one of data, keys, locks, snapshots, index.
bool IsObjectType(std::string_view type);
// Whether `name` is 64 lower-case hex digits.
bool IsObjectName(std::string_view name);
// Whether `repo` satisfies the repository-path grammar above. Use it wherever a repository path
// comes from outside (URL, token claim, grant row): false means it names nothing.
bool IsRepoPath(std::string_view repo);

// Where an object lies below its repository, in both backends' layout (restic's own): "config"
// for the config (`name` empty), "data/<first two digits of name>/<name>" for data, and
// "<type>/<name>" otherwise. `type` and `name` must be valid.
std::string ObjectRelativePath(std::string_view type, std::string_view name);

// Parses the decoded path after "/backup/" (the router has already refused encoded slashes and
// NUL). nullopt for anything that is not one of the forms above.
std::optional<Target> ParseTarget(std::string_view rest);

}  // namespace tessera::backup

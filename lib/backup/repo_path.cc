#include "backup/repo_path.h"

#include <array>

namespace tessera::backup {
namespace {

constexpr std::array<std::string_view, 5> kTypes = {"data", "keys", "locks", "snapshots", "index"};
// What a repository directory holds: no repository segment may be called like it.
constexpr std::array<std::string_view, 6> kReserved = {"config", "data",      "keys",
                                                       "locks",  "snapshots", "index"};
// Longest input worth splitting: a repository path, "/", a type, "/", a name.
constexpr std::size_t kMaxTargetBytes = kMaxRepoPathBytes + 1 + 9 + 1 + 64;

bool IsSegment(std::string_view s) {
  if (s.empty() || s.size() > kMaxRepoSegmentBytes || s.front() == '.') return false;
  for (char ch : s) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.';
    if (!ok) return false;
  }
  for (auto r : kReserved) {
    if (s == r) return false;
  }
  return true;
}

}  // namespace

bool IsObjectType(std::string_view type) {
  for (auto t : kTypes) {
    if (t == type) return true;
  }
  return false;
}

bool IsObjectName(std::string_view name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsRepoPath(std::string_view repo) {
  if (repo.empty() || repo.size() > kMaxRepoPathBytes) return false;
  std::size_t segments = 0;
  while (true) {
    std::size_t slash = repo.find('/');
    if (++segments > kMaxRepoSegments || !IsSegment(repo.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    repo.remove_prefix(slash + 1);
  }
}

std::optional<Target> ParseTarget(std::string_view rest) {
  if (rest.size() > kMaxTargetBytes) return std::nullopt;
  // Since no repository segment is a reserved word, the repository is everything before the
  // last one or two segments, and which form it is follows from those alone.
  auto split_last = [](std::string_view s) -> std::pair<std::string_view, std::string_view> {
    std::size_t slash = s.rfind('/');
    if (slash == std::string_view::npos) return {std::string_view{}, s};
    return {s.substr(0, slash), s.substr(slash + 1)};
  };
  auto [head, last] = split_last(rest);
  if (head.empty()) return std::nullopt;  // no '/', or nothing before it
  if (IsRepoPath(head)) {
    // <repo>/  (the trailing slash is required: restic sends it)
    if (last.empty()) return Target{Kind::kRepo, std::string(head), "", ""};
    if (last == "config") return Target{Kind::kConfig, std::string(head), "", ""};
    return std::nullopt;
  }
  auto [repo, type] = split_last(head);
  if (!IsObjectType(type) || !IsRepoPath(repo)) return std::nullopt;
  if (last.empty()) return Target{Kind::kList, std::string(repo), std::string(type), ""};
  if (IsObjectName(last))
    return Target{Kind::kObject, std::string(repo), std::string(type), std::string(last)};
  return std::nullopt;
}

std::string ObjectRelativePath(std::string_view type, std::string_view name) {
  if (type == "config") return "config";
  if (type == "data") return "data/" + std::string(name.substr(0, 2)) + "/" + std::string(name);
  return std::string(type) + "/" + std::string(name);
}

}  // namespace tessera::backup

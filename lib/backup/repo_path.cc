#include "backup/repo_path.h"

#include <array>
#include <vector>

namespace tessera::backup {
namespace {
constexpr std::array<std::string_view, 5> kTypes = {"data", "keys", "locks", "snapshots", "index"};
constexpr std::size_t kMaxRepoComponents = 4;

bool IsComponent(std::string_view c) {
  if (c.empty() || c.size() > 64 || c.front() == '.') return false;
  for (char ch : c) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return parts;
}

std::string Join(const std::vector<std::string_view>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out.push_back('/');
    out.append(parts[i]);
  }
  return out;
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
  auto parts = Split(repo);
  if (parts.empty() || parts.size() > kMaxRepoComponents) return false;
  for (auto p : parts) {
    if (!IsComponent(p)) return false;
  }
  return true;
}

std::optional<Target> ParseTarget(std::string_view rest) {
  if (rest.size() > 512) return std::nullopt;
  auto parts = Split(rest);
  std::size_t n = parts.size();
  auto repo_ok = [&](std::size_t count) {
    if (count == 0 || count > kMaxRepoComponents) return false;
    for (std::size_t i = 0; i < count; ++i) {
      if (!IsComponent(parts[i])) return false;
    }
    return true;
  };
  // <repo>/<type>/<name>
  if (n >= 3 && IsObjectType(parts[n - 2]) && IsObjectName(parts[n - 1]) && repo_ok(n - 2)) {
    return Target{Kind::kObject, Join(parts, n - 2), std::string(parts[n - 2]), std::string(parts[n - 1])};
  }
  // <repo>/<type>/
  if (n >= 3 && parts[n - 1].empty() && IsObjectType(parts[n - 2]) && repo_ok(n - 2)) {
    return Target{Kind::kList, Join(parts, n - 2), std::string(parts[n - 2]), ""};
  }
  // <repo>/config
  if (n >= 2 && parts[n - 1] == "config" && repo_ok(n - 1)) {
    return Target{Kind::kConfig, Join(parts, n - 1), "", ""};
  }
  // <repo>/  (the trailing slash is required: restic sends it, and without it "laptop/data"
  // would be a repository and a mistyped object path at once)
  if (n >= 2 && parts[n - 1].empty() && repo_ok(n - 1)) {
    return Target{Kind::kRepo, Join(parts, n - 1), "", ""};
  }
  return std::nullopt;
}

}  // namespace tessera::backup

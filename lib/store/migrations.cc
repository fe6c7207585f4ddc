#include "store/migrations.h"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "encoding/hex.h"

namespace tessera::store {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return encoding::Hex(digest);
}

bool IsMigrationName(std::string_view name) {
  if (name.size() < 10 || name.size() > 128 || !name.ends_with(".sql")) return false;
  for (std::size_t i = 0; i < 4; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  if (name[4] != '_') return false;
  std::string_view stem = name.substr(5, name.size() - 9);
  if (stem.empty()) return false;
  return std::all_of(stem.begin(), stem.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::expected<std::vector<Migration>, std::string> LoadMigrations(
    const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::unexpected("cannot read migration directory " + dir.string());
  std::vector<Migration> out;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(".sql")) continue;
    if (!IsMigrationName(name)) {
      return std::unexpected("migration file " + entry.path().string() +
                             " is not named NNNN_name.sql");
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) return std::unexpected("cannot read " + entry.path().string());
    Migration m{name, text.str(), ""};
    m.checksum = Sha256Hex(m.sql);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.name < b.name; });
  return out;
}

std::expected<std::vector<std::size_t>, std::string> PlanMigrations(
    const std::vector<Migration>& files, const std::vector<AppliedMigration>& applied) {
  std::map<std::string_view, std::string_view> done;
  std::string_view newest_applied;
  for (const auto& a : applied) {
    done[a.name] = a.checksum;
    newest_applied = std::max(newest_applied, std::string_view(a.name));
  }
  std::map<std::string_view, const Migration*> by_name;
  for (const auto& f : files) by_name[f.name] = &f;
  for (const auto& a : applied) {
    if (!by_name.contains(a.name)) {
      return std::unexpected("migration " + a.name +
                             " is recorded as applied but its file is missing");
    }
  }
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Migration& f = files[i];
    auto it = done.find(f.name);
    if (it != done.end()) {
      if (it->second != f.checksum) {
        return std::unexpected("migration " + f.name +
                               " was changed after it was applied (recorded checksum " +
                               std::string(it->second) + ", file now " + f.checksum +
                               "); write a new migration instead of editing an applied one");
      }
      continue;
    }
    if (f.name < newest_applied) {
      return std::unexpected("migration " + f.name + " sorts before the already applied " +
                             std::string(newest_applied) + "; rename it to come last");
    }
    pending.push_back(i);
  }
  return pending;
}

std::expected<void, std::string> CheckSchema(std::span<const ManifestEntry> manifest,
                                             const std::vector<AppliedMigration>& applied) {
  for (const ManifestEntry& m : manifest) {
    auto it = std::find_if(applied.begin(), applied.end(),
                           [&](const AppliedMigration& a) { return a.name == m.name; });
    if (it == applied.end()) {
      return std::unexpected("database schema is behind: migration " + std::string(m.name) +
                             " is not applied (run `tessera-admin migrate`)");
    }
    if (it->checksum != m.checksum) {
      return std::unexpected("database schema differs: migration " + std::string(m.name) +
                             " was applied from a different file");
    }
  }
  return {};
}

}  // namespace tessera::store

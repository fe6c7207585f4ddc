// The filesystem backend against a real temporary directory.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "backup/content_hash.h"
#include "backup/listing.h"
#include "backup/storage.h"

using namespace tessera::backup;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "tessera-fs-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string Hex(int first_byte, int i) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%02x%062x", first_byte, i);
  return hex;
}

void Touch(const std::string& path, std::size_t size) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << std::string(size, 'x');
  REQUIRE(out.good());
}

std::string ListJson(Storage& s, AccountId owner, const std::string& repo, const std::string& type,
                     ListFormat format, std::size_t chunk = 5) {
  auto lister = s.List(owner, repo, type);
  REQUIRE(lister);
  ListingSource source(std::move(*lister), format);
  std::string out;
  std::vector<char> buffer(chunk);
  std::ptrdiff_t n;
  while ((n = source.Read(buffer.data(), buffer.size())) > 0)
    out.append(buffer.data(), static_cast<std::size_t>(n));
  REQUIRE(n == 0);
  return out;
}

constexpr AccountId kAlice{7};

}  // namespace

TEST_CASE("the filesystem keys repositories on the account id") {
  TempDir root;
  auto storage = MakeFilesystemStorage(root.path);
  REQUIRE(storage->CreateRepo(kAlice, "a/laptop"));
  CHECK(fs::is_directory(root.path + "/7/a/laptop/data"));
  CHECK(storage->RepoExists(kAlice, "a/laptop"));
  CHECK_FALSE(storage->RepoExists(AccountId{8}, "a/laptop"));
  for (AccountId nobody : {AccountId{0}, AccountId{-7}}) {
    CHECK_FALSE(storage->RepoExists(nobody, "a/laptop"));
    CHECK(storage->CreateRepo(nobody, "x").error() == StorageError::kNotFound);
    CHECK(storage->List(nobody, "a/laptop", "keys").error() == StorageError::kNotFound);
  }
  CHECK(fs::directory_iterator(root.path) != fs::directory_iterator());
  CHECK(std::distance(fs::directory_iterator(root.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a new repository costs six directories; data/xx is made by its first write") {
  TempDir root;
  auto storage = MakeFilesystemStorage(root.path);
  REQUIRE(storage->CreateRepo(kAlice, "laptop"));
  std::string repo = root.path + "/7/laptop";
  std::size_t dirs = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo)) dirs += e.is_directory();
  CHECK(dirs == 5);  // data keys locks snapshots index, below the repository's own
  CHECK_FALSE(fs::exists(repo + "/data/ab"));
  // Creating it again changes nothing and makes no subfolder either.
  REQUIRE(storage->CreateRepo(kAlice, "laptop"));
  CHECK_FALSE(fs::exists(repo + "/data/ab"));

  auto put = [&](const std::string& content) {
    auto hash = ContentHash::Start();
    REQUIRE(hash);
    hash->Update(content.data(), content.size());
    return hash->FinalHex();
  };
  // Two uploads into the same new subfolder begun before either commits: the second one's
  // mkdir meets the first one's directory (EEXIST), and both land.
  std::vector<std::string> contents;
  for (int i = 0; contents.size() < 2; ++i) {
    std::string content = "object " + std::to_string(i);
    if (put(content).substr(0, 2) == put("object 0").substr(0, 2)) contents.push_back(content);
  }
  std::string sub = put(contents[0]).substr(0, 2);
  auto first = storage->BeginWrite(kAlice, "laptop", "data", put(contents[0]), contents[0].size());
  auto second = storage->BeginWrite(kAlice, "laptop", "data", put(contents[1]), contents[1].size());
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE((*first)->Write(contents[0].data(), contents[0].size()));
  REQUIRE((*second)->Write(contents[1].data(), contents[1].size()));
  REQUIRE((*first)->Commit(put(contents[0])));
  REQUIRE((*second)->Commit(put(contents[1])));
  CHECK(fs::is_directory(repo + "/data/" + sub));
  struct stat st{};
  REQUIRE(stat((repo + "/data/" + sub).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777 & ~0750) == 0);
  for (const std::string& c : contents) {
    auto read = storage->Open(kAlice, "laptop", "data", put(c));
    REQUIRE(read);
    CHECK((*read)->size() == c.size());
  }
  CHECK(ListJson(*storage, kAlice, "laptop", "data", ListFormat::kV1).find(put(contents[1])) !=
        std::string::npos);
  // Other types never make subfolders; a missing data/xx reads as absent, not as an error.
  CHECK(storage->Open(kAlice, "laptop", "data", std::string(64, 'f')).error() ==
        StorageError::kNotFound);
  dirs = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo)) dirs += e.is_directory();
  CHECK(dirs == 6);
}

TEST_CASE("filesystem listings stream every data subfolder in order, skipping all but objects") {
  TempDir root;
  auto storage = MakeFilesystemStorage(root.path);
  REQUIRE(storage->CreateRepo(kAlice, "laptop"));
  std::string repo = root.path + "/7/laptop";
  CHECK(ListJson(*storage, kAlice, "laptop", "data", ListFormat::kV1) == "[]");
  CHECK(ListJson(*storage, kAlice, "laptop", "data", ListFormat::kV2) == "[]");

  // One object in each of 00, 01, 7f and ff; debris that must never be listed next to them.
  std::string v1 = "[", v2 = "[";
  int i = 0;
  for (int sub : {0x00, 0x01, 0x7f, 0xff}) {
    char dir[4];
    std::snprintf(dir, sizeof dir, "%02x", sub);
    std::string name = Hex(sub, i);
    Touch(repo + "/data/" + dir + "/" + name, static_cast<std::size_t>(i) * 10);
    Touch(repo + "/data/" + dir + "/.tmp-abcdef", 3);
    if (i) v1 += ",", v2 += ",";
    v1 += "\"" + name + "\"";
    v2 += "{\"name\":\"" + name + "\",\"size\":" + std::to_string(i * 10) + "}";
    ++i;
  }
  v1 += "]";
  v2 += "]";
  fs::create_directories(repo + "/data/10/" + Hex(0x10, 99));  // a directory
  fs::create_directories(repo + "/data/20");
  fs::create_symlink(repo + "/data/00/" + Hex(0, 0),
                     repo + "/data/20/" + Hex(0x20, 1));  // a symlink
  Touch(repo + "/data/30/" + Hex(0x30, 1).substr(1), 1);  // 63 digits
  Touch(repo + "/data/30/" + std::string(64, 'A'), 1);    // upper case
  fs::remove(repo + "/data/40");                          // a missing subfolder
  for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{256 * 1024}}) {
    CHECK(ListJson(*storage, kAlice, "laptop", "data", ListFormat::kV1, chunk) == v1);
    CHECK(ListJson(*storage, kAlice, "laptop", "data", ListFormat::kV2, chunk) == v2);
  }

  Touch(repo + "/keys/" + Hex(0xab, 1), 42);
  Touch(repo + "/keys/.tmp-123456", 1);
  CHECK(ListJson(*storage, kAlice, "laptop", "keys", ListFormat::kV2) ==
        "[{\"name\":\"" + Hex(0xab, 1) + "\",\"size\":42}]");
  CHECK(ListJson(*storage, kAlice, "laptop", "snapshots", ListFormat::kV1) == "[]");
  CHECK(storage->List(kAlice, "desktop", "keys").error() == StorageError::kNotFound);
}

TEST_CASE("a symlink in place of a data subfolder fails the listing instead of following it") {
  TempDir root, elsewhere;
  auto storage = MakeFilesystemStorage(root.path);
  REQUIRE(storage->CreateRepo(kAlice, "laptop"));
  std::string secret = Hex(0xab, 1);
  Touch(elsewhere.path + "/" + secret, 1);
  fs::remove(root.path + "/7/laptop/data/ab");
  fs::create_directory_symlink(elsewhere.path, root.path + "/7/laptop/data/ab");
  auto lister = storage->List(kAlice, "laptop", "data");
  REQUIRE(lister);
  ListingSource source(std::move(*lister), ListFormat::kV1);
  std::string out;
  char buffer[64];
  std::ptrdiff_t n;
  while ((n = source.Read(buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  CHECK(n == -1);
  CHECK(out.find(secret) == std::string::npos);
}

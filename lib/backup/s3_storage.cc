#include "backup/s3_storage.h"

#include <algorithm>
#include <vector>

#include "backup/content_hash.h"
#include "backup/repo_path.h"
#include "store/notification.h"

namespace tessera::backup {
namespace {

constexpr std::string_view kRepoMarker = ".tessera-repo";
constexpr std::string_view kCreatorMeta = "creator";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kTypes[] = {"data", "keys", "locks", "snapshots", "index"};

bool IsOwner(AccountId owner) { return static_cast<std::int64_t>(owner) > 0; }

StorageError FromS3(S3Error e) {
  switch (e) {
    case S3Error::kNotFound:
      return StorageError::kNotFound;
    case S3Error::kExists:
      return StorageError::kExists;
    case S3Error::kBadContent:
      return StorageError::kHashMismatch;
    case S3Error::kUnavailable:
      return StorageError::kUnavailable;
    case S3Error::kNoBucket:
    case S3Error::kDenied:
    case S3Error::kFailed:
      break;
  }
  return StorageError::kIo;
}

template <typename T>
std::unexpected<StorageError> Unexpected(const std::expected<T, S3Error>& r) {
  return std::unexpected(FromS3(r.error()));
}

class S3Reader final : public ObjectReader {
 public:
  S3Reader(std::shared_ptr<const S3Client> client, std::string key, std::uint64_t size,
           const clock::Clock& clock)
      : client_(std::move(client)), key_(std::move(key)), size_(size), clock_(clock) {}
  std::uint64_t size() const override { return size_; }
  std::optional<std::string> remote_url() const override {
    return client_->PresignedUrl(key_, clock_);
  }
  std::shared_ptr<http::BodySource> Range(std::uint64_t offset, std::uint64_t length) override {
    return client_->GetRange(key_, offset, length);
  }

 private:
  std::shared_ptr<const S3Client> client_;
  std::string key_;
  std::uint64_t size_;
  const clock::Clock& clock_;
};

// Streams into a PUT, one piece behind (see s3_storage.h).
class S3Writer final : public ObjectWriter {
 public:
  S3Writer(std::unique_ptr<S3Upload> upload, ContentHash hash)
      : upload_(std::move(upload)), hash_(std::move(hash)) {}

  std::expected<void, StorageError> Write(const char* data, std::size_t size) override {
    hash_.Update(data, size);
    if (!held_.empty()) {
      if (auto sent = upload_->Send(held_.data(), held_.size()); !sent) return Unexpected(sent);
    }
    held_.assign(data, data + size);
    return {};
  }

  std::expected<void, StorageError> Commit(std::optional<std::string_view> expected) override {
    // On a mismatch the held piece is never sent: the PUT stays short of its Content-Length and
    // is aborted when the writer goes, so the store keeps nothing.
    if (expected && *expected != hash_.FinalHex())
      return std::unexpected(StorageError::kHashMismatch);
    if (!held_.empty()) {
      if (auto sent = upload_->Send(held_.data(), held_.size()); !sent) return Unexpected(sent);
    }
    if (auto done = upload_->Finish(); !done) return Unexpected(done);
    return {};
  }

 private:
  std::unique_ptr<S3Upload> upload_;
  ContentHash hash_;
  std::vector<char> held_;
};

class S3Lister final : public ObjectLister {
 public:
  S3Lister(std::shared_ptr<const S3Client> client, std::string prefix, bool data)
      : client_(std::move(client)), prefix_(std::move(prefix)), data_(data) {}

  std::expected<std::optional<ObjectInfo>, StorageError> Next() override {
    while (true) {
      while (index_ < page_.objects.size()) {
        const S3ListEntry& o = page_.objects[index_++];
        std::string_view rel = o.key;
        if (!rel.starts_with(prefix_)) continue;
        rel.remove_prefix(prefix_.size());
        std::string_view name = rel;
        if (data_) {
          // data/<first two digits>/<name>: anything else under data/ is not an object.
          if (rel.size() < 3 || rel[2] != '/') continue;
          name = rel.substr(3);
          if (name.substr(0, 2) != rel.substr(0, 2)) continue;
        }
        if (!IsObjectName(name)) continue;
        return std::optional<ObjectInfo>{ObjectInfo{std::string(name), o.size}};
      }
      if (started_ && !page_.truncated) return std::optional<ObjectInfo>{};
      auto next = client_->List(prefix_, data_ ? "" : "/", page_.next_token);
      if (!next) return Unexpected(next);
      page_ = std::move(*next);
      index_ = 0;
      started_ = true;
    }
  }

 private:
  std::shared_ptr<const S3Client> client_;
  std::string prefix_;
  bool data_;
  S3ListPage page_;
  std::size_t index_ = 0;
  bool started_ = false;
};

class S3Storage;

// A lock, held whole until Commit writes it with its creator (s3_storage.h).
class S3LockWriter final : public ObjectWriter {
 public:
  S3LockWriter(const S3Storage& storage, AccountId owner, std::string repo, std::string name,
               std::uint64_t size, std::string creator, std::size_t max_locks)
      : storage_(storage),
        owner_(owner),
        repo_(std::move(repo)),
        name_(std::move(name)),
        size_(size),
        creator_(std::move(creator)),
        max_locks_(max_locks) {}

  std::expected<void, StorageError> Write(const char* data, std::size_t size) override {
    if (body_.size() + size > size_) return std::unexpected(StorageError::kIo);
    body_.append(data, size);
    return {};
  }

  std::expected<void, StorageError> Commit(std::optional<std::string_view> expected) override;

 private:
  const S3Storage& storage_;
  AccountId owner_;
  std::string repo_, name_;
  std::uint64_t size_;
  std::string creator_;
  std::size_t max_locks_;
  std::string body_;
};

class S3Storage final : public Storage {
 public:
  S3Storage(std::shared_ptr<const S3Client> client, std::string prefix, const clock::Clock& clock)
      : client_(std::move(client)), prefix_(std::move(prefix)), clock_(clock) {}

  const S3Client& client() const { return *client_; }

  std::expected<void, StorageError> CreateRepo(AccountId owner, std::string_view repo) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    auto made =
        client_->Put(MarkerKey(owner, repo), "", S3PutOptions{std::string(kEmptySha256), true, {}});
    if (!made && made.error() != S3Error::kExists) return Unexpected(made);
    return {};
  }

  bool RepoExists(AccountId owner, std::string_view repo) override {
    return CheckRepo(owner, repo).has_value();
  }

  std::expected<std::unique_ptr<ObjectReader>, StorageError> Open(AccountId owner,
                                                                  std::string_view repo,
                                                                  std::string_view type,
                                                                  std::string_view name) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    std::string key = ObjectKey(owner, repo, type, name);
    auto head = client_->Head(key);
    if (!head) return Unexpected(head);
    return std::make_unique<S3Reader>(client_, std::move(key), head->size, clock_);
  }

  std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginWrite(
      AccountId owner, std::string_view repo, std::string_view type, std::string_view name,
      std::uint64_t size) override {
    if (type == "locks") return std::unexpected(StorageError::kIo);
    if (auto repo_ok = CheckRepo(owner, repo); !repo_ok) return std::unexpected(repo_ok.error());
    // Objects are named by their SHA-256: the store checks the body against it. The config has
    // no such name.
    auto hash = ContentHash::Start();
    if (!hash) return std::unexpected(StorageError::kIo);
    S3PutOptions put{type == "config" ? std::string() : std::string(name), true, {}};
    return std::make_unique<S3Writer>(
        client_->BeginPut(ObjectKey(owner, repo, type, name), size, std::move(put)),
        std::move(*hash));
  }

  std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginLock(
      AccountId owner, std::string_view repo, std::string_view name, std::uint64_t size,
      std::string_view creator, std::size_t max_locks) override {
    if (!store::IsValidJti(creator)) return std::unexpected(StorageError::kIo);
    if (auto repo_ok = CheckRepo(owner, repo); !repo_ok) return std::unexpected(repo_ok.error());
    // Refused before the body is read when a cap is reached already; Commit counts again.
    if (auto caps = CheckLockCaps(owner, repo, creator, max_locks); !caps)
      return std::unexpected(caps.error());
    return std::make_unique<S3LockWriter>(*this, owner, std::string(repo), std::string(name), size,
                                          std::string(creator), max_locks);
  }

  std::expected<void, StorageError> RemoveLock(
      AccountId owner, std::string_view repo, std::string_view name,
      std::optional<std::string_view> only_creator) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    std::string key = ObjectKey(owner, repo, "locks", name);
    if (only_creator) {
      auto head = client_->Head(key);
      if (!head) {
        if (head.error() == S3Error::kNotFound) return {};  // gone already
        return Unexpected(head);
      }
      auto creator = head->Meta(kCreatorMeta);
      if (!creator || *creator != *only_creator) return std::unexpected(StorageError::kNotCreator);
    }
    if (auto gone = client_->Delete(key); !gone) return Unexpected(gone);
    return {};
  }

  std::expected<std::unique_ptr<ObjectLister>, StorageError> List(AccountId owner,
                                                                  std::string_view repo,
                                                                  std::string_view type) override {
    if (auto repo_ok = CheckRepo(owner, repo); !repo_ok) return std::unexpected(repo_ok.error());
    return std::make_unique<S3Lister>(client_, RepoKey(owner, repo) + "/" + std::string(type) + "/",
                                      type == "data");
  }

  std::expected<std::vector<RepoUsage>, StorageError> Usage(
      AccountId owner, std::size_t limit,
      const std::function<bool(std::string_view repo)>& include) override {
    std::vector<RepoUsage> repos;
    if (!IsOwner(owner)) return repos;
    if (auto found = FindRepos(AccountKey(owner) + "/", "", 0, limit, include, repos); !found)
      return std::unexpected(found.error());
    std::sort(repos.begin(), repos.end(),
              [](const RepoUsage& a, const RepoUsage& b) { return a.repo < b.repo; });
    for (RepoUsage& usage : repos) {
      if (auto measured = Measure(owner, usage); !measured)
        return std::unexpected(measured.error());
    }
    return repos;
  }

  std::expected<std::optional<std::uint64_t>, StorageError> Remove(AccountId owner,
                                                                   std::string_view repo,
                                                                   std::string_view type,
                                                                   std::string_view name) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    if (type == "locks") {
      if (auto gone = RemoveLock(owner, repo, name, std::nullopt); !gone)
        return std::unexpected(gone.error());
      return std::nullopt;
    }
    // S3 has no conditional delete: the size comes from a HEAD first, so two parallel removals
    // of one object may both report it (the usage is then too low until a recompute).
    std::string key = ObjectKey(owner, repo, type, name);
    auto head = client_->Head(key);
    if (!head) {
      if (head.error() == S3Error::kNotFound) return std::nullopt;
      return Unexpected(head);
    }
    if (auto gone = client_->Delete(key); !gone) return Unexpected(gone);
    return head->size;
  }

  // Whether one more lock by `creator` stays within both caps (Storage::BeginLock). The total
  // comes from one listing of locks/; the creators are read (one HEAD per lock) only when there
  // are enough locks for `creator` to have reached its cap.
  std::expected<void, StorageError> CheckLockCaps(AccountId owner, std::string_view repo,
                                                  std::string_view creator,
                                                  std::size_t max_locks) const {
    std::string prefix = RepoKey(owner, repo) + "/locks/";
    std::vector<std::string> locks;
    auto listed =
        ForEachPage(prefix, "/", [&](const S3ListPage& page) -> std::expected<void, StorageError> {
          for (const S3ListEntry& o : page.objects) {
            std::string_view name = std::string_view(o.key).substr(prefix.size());
            if (!IsObjectName(name)) continue;
            if (locks.size() >= max_locks) return std::unexpected(StorageError::kTooMany);
            locks.emplace_back(name);
          }
          return {};
        });
    if (!listed) return listed;
    if (locks.size() >= max_locks) return std::unexpected(StorageError::kTooMany);
    if (locks.size() < kMaxLocksPerCreator) return {};
    std::size_t by_creator = 0;
    for (const std::string& name : locks) {
      auto head = client_->Head(prefix + name);
      if (!head) {
        if (head.error() == S3Error::kNotFound) continue;  // removed meanwhile
        return Unexpected(head);
      }
      if (head->Meta(kCreatorMeta) == creator) ++by_creator;
    }
    if (by_creator >= kMaxLocksPerCreator) return std::unexpected(StorageError::kTooMany);
    return {};
  }

  // Calls `visit` with each page of the listing of `prefix` (with `delimiter`), one page in
  // memory at a time; stops at the first error, the visitor's or the store's.
  template <typename Visit>
  std::expected<void, StorageError> ForEachPage(const std::string& prefix,
                                                std::string_view delimiter, Visit visit) const {
    S3ListPage page;
    do {
      auto next = client_->List(prefix, delimiter, page.next_token);
      if (!next) return Unexpected(next);
      page = std::move(*next);
      if (auto visited = visit(page); !visited) return visited;
    } while (page.truncated);
    return {};
  }

  std::string ObjectKey(AccountId owner, std::string_view repo, std::string_view type,
                        std::string_view name) const {
    return RepoKey(owner, repo) + "/" + ObjectRelativePath(type, name);
  }

 private:
  std::string AccountKey(AccountId owner) const {
    std::string id = std::to_string(static_cast<std::int64_t>(owner));
    return prefix_.empty() ? id : prefix_ + "/" + id;
  }
  std::string RepoKey(AccountId owner, std::string_view repo) const {
    return AccountKey(owner) + "/" + std::string(repo);
  }
  std::string MarkerKey(AccountId owner, std::string_view repo) const {
    return RepoKey(owner, repo) + "/keys/" + std::string(kRepoMarker);
  }

  // kNotFound when the repository has no marker, kUnavailable when the store cannot tell.
  std::expected<void, StorageError> CheckRepo(AccountId owner, std::string_view repo) const {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    auto head = client_->Head(MarkerKey(owner, repo));
    if (!head) return Unexpected(head);
    return {};
  }

  // Every page of the common prefixes directly below `prefix` (which ends in '/'), as names.
  std::expected<std::vector<std::string>, StorageError> Children(const std::string& prefix) const {
    std::vector<std::string> names;
    auto listed =
        ForEachPage(prefix, "/", [&](const S3ListPage& page) -> std::expected<void, StorageError> {
          for (const std::string& p : page.prefixes) {
            if (!p.starts_with(prefix) || p.size() < prefix.size() + 2 || !p.ends_with('/'))
              continue;
            names.push_back(p.substr(prefix.size(), p.size() - prefix.size() - 1));
          }
          return {};
        });
    if (!listed) return std::unexpected(listed.error());
    return names;
  }

  // The repositories at and below `prefix` (repository path `repo`, `depth` segments), as the
  // filesystem backend finds them: a keys/ below a valid repository path.
  std::expected<void, StorageError> FindRepos(const std::string& prefix, const std::string& repo,
                                              std::size_t depth, std::size_t limit,
                                              const std::function<bool(std::string_view)>& include,
                                              std::vector<RepoUsage>& found) const {
    auto children = Children(prefix);
    if (!children) return std::unexpected(children.error());
    std::sort(children->begin(), children->end());
    if (depth > 0 && std::binary_search(children->begin(), children->end(), std::string("keys")) &&
        IsRepoPath(repo) && found.size() < limit && include(repo)) {
      RepoUsage usage;
      usage.repo = repo;
      found.push_back(std::move(usage));
    }
    for (const std::string& name : *children) {
      if (depth == kMaxRepoSegments || IsObjectType(name) || found.size() >= limit) continue;
      auto below = FindRepos(prefix + name + "/", repo.empty() ? name : repo + "/" + name,
                             depth + 1, limit, include, found);
      if (!below) return below;
    }
    return {};
  }

  // Adds up the objects of `usage.repo`, one listing page at a time.
  std::expected<void, StorageError> Measure(AccountId owner, RepoUsage& usage) const {
    std::string prefix = RepoKey(owner, usage.repo) + "/";
    return ForEachPage(
        prefix, "", [&](const S3ListPage& page) -> std::expected<void, StorageError> {
          for (const S3ListEntry& o : page.objects) {
            std::string_view rel = std::string_view(o.key).substr(prefix.size());
            bool counted = rel == "config";
            bool snapshot = false;
            std::size_t slash = rel.find('/');
            if (!counted && slash != std::string_view::npos) {
              std::string_view type = rel.substr(0, slash), rest = rel.substr(slash + 1);
              if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
                continue;
              if (type == "data") {
                if (rest.size() < 3 || rest[2] != '/' || rest.substr(0, 2) != rest.substr(3, 2))
                  continue;
                rest = rest.substr(3);
              }
              counted = IsObjectName(rest);
              snapshot = type == "snapshots";
            }
            if (!counted) continue;
            usage.bytes += o.size;
            ++usage.objects;
            if (!snapshot) continue;
            ++usage.snapshots;
            if (o.last_modified)
              usage.last_snapshot = std::max(usage.last_snapshot.value_or(0), *o.last_modified);
          }
          return {};
        });
  }

  std::shared_ptr<const S3Client> client_;
  std::string prefix_;
  const clock::Clock& clock_;
};

std::expected<void, StorageError> S3LockWriter::Commit(std::optional<std::string_view> expected) {
  std::string digest;
  {
    auto hash = ContentHash::Start();
    if (!hash) return std::unexpected(StorageError::kIo);
    hash->Update(body_.data(), body_.size());
    digest = hash->FinalHex();
  }
  if (expected && *expected != digest) return std::unexpected(StorageError::kHashMismatch);
  if (body_.size() != size_) return std::unexpected(StorageError::kIo);
  if (auto caps = storage_.CheckLockCaps(owner_, repo_, creator_, max_locks_); !caps)
    return std::unexpected(caps.error());
  S3PutOptions put{digest, true, {{std::string(kCreatorMeta), creator_}}};
  auto put_done = storage_.client().Put(storage_.ObjectKey(owner_, repo_, "locks", name_), body_,
                                        std::move(put));
  if (!put_done) return Unexpected(put_done);
  return {};
}

}  // namespace

std::unique_ptr<Storage> MakeS3Storage(std::shared_ptr<const S3Client> client, std::string prefix,
                                       const clock::Clock& clock) {
  return std::make_unique<S3Storage>(std::move(client), std::move(prefix), clock);
}

}  // namespace tessera::backup

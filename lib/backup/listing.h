// A repository listing as the restic REST protocol sends it (doc/REST_backend.rst, "Listing
// objects"), produced while it is read, so its memory does not grow with the repository:
//
//   v1 (application/vnd.x.restic.rest.v1):  ["<name>","<name>",...]
//   v2 (application/vnd.x.restic.rest.v2):  [{"name":"<name>","size":<bytes>},...]
//
// The source pulls the next object from an ObjectLister only when everything it produced before
// has been read, so at any time it holds one formatted entry (under 100 bytes) besides the
// lister's own single directory handle. The response is sent without Content-Length.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "backup/storage.h"
#include "http/response.h"

namespace tessera::backup {

enum class ListFormat { kV1, kV2 };

class ListingSource final : public http::BodySource {
 public:
  ListingSource(std::unique_ptr<ObjectLister> lister, ListFormat format);

  // Fills `buffer` with as much of the listing as it has; 0 at the end; -1 when the lister failed
  // (the response is then cut, never completed with a partial list). Not thread-safe.
  std::ptrdiff_t Read(char* buffer, std::size_t size) override;

 private:
  // Formats what comes next into pending_; false on a lister error.
  bool Refill();

  std::unique_ptr<ObjectLister> lister_;
  ListFormat format_;
  std::string pending_;  // one formatted entry (or a bracket) not yet read
  std::size_t pos_ = 0;
  std::size_t entries_ = 0;
  enum class State { kStart, kEntries, kEnd, kFailed } state_ = State::kStart;
};

}  // namespace tessera::backup

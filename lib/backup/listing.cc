#include "backup/listing.h"

#include <algorithm>
#include <cstring>

#include "backup/repo_path.h"

namespace tessera::backup {

ListingSource::ListingSource(std::unique_ptr<ObjectLister> lister, ListFormat format)
    : lister_(std::move(lister)), format_(format) {
  pending_.reserve(96);
}

bool ListingSource::Refill() {
  pending_.clear();
  pos_ = 0;
  switch (state_) {
    case State::kStart:
      pending_ = "[";
      state_ = State::kEntries;
      return true;
    case State::kEntries: {
      auto next = lister_->Next();
      if (!next || (*next && !IsObjectName((*next)->name))) {
        // Names are 64 hex digits, so they need no JSON escaping; anything else is a bug in the
        // lister and never reaches the client.
        state_ = State::kFailed;
        return false;
      }
      if (!*next) {
        pending_ = "]";
        state_ = State::kEnd;
        lister_.reset();  // closes its directory now, not when the response goes
        return true;
      }
      if (entries_++ > 0) pending_ += ',';
      if (format_ == ListFormat::kV1) {
        pending_.append("\"").append((*next)->name).append("\"");
      } else {
        pending_.append("{\"name\":\"")
            .append((*next)->name)
            .append("\",\"size\":")
            .append(std::to_string((*next)->size))
            .append("}");
      }
      return true;
    }
    case State::kEnd:
    case State::kFailed:
      return false;
  }
  return false;
}

std::ptrdiff_t ListingSource::Read(char* buffer, std::size_t size) {
  std::size_t written = 0;
  while (written < size) {
    if (pos_ == pending_.size()) {
      if (state_ == State::kEnd) break;
      if (!Refill()) break;
    }
    std::size_t n = std::min(size - written, pending_.size() - pos_);
    std::memcpy(buffer + written, pending_.data() + pos_, n);
    pos_ += n;
    written += n;
  }
  // What was produced before a failure is handed out first; the failure shows at the next read.
  if (written == 0 && state_ == State::kFailed) return -1;
  return static_cast<std::ptrdiff_t>(written);
}

}  // namespace tessera::backup

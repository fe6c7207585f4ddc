#include "backup/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <memory>

#include "crypto/rfc3339.h"

namespace tessera::backup {
namespace {

struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};
using Parser = std::unique_ptr<std::remove_pointer_t<XML_Parser>, ParserFree>;

// Elements deeper than this end the parse: S3's documents are three levels deep.
constexpr std::size_t kMaxDepth = 16;

// Collects the text of the elements whose path (from the root) the subclass asks for; the
// subclass sees each element's end with its path and text.
class Walker {
 public:
  virtual ~Walker() = default;

  // Parses `xml` whole; false when it is not well-formed, holds a DOCTYPE, nests too deep, or a
  // subclass refused something (error_ then says what).
  bool Run(std::string_view xml) {
    Parser parser(XML_ParserCreate("UTF-8"));
    if (!parser) return false;
    parser_ = parser.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &Walker::OnStart, &Walker::OnEnd);
    XML_SetCharacterDataHandler(parser_, &Walker::OnText);
    // No document type declarations at all: S3 never sends one, and without one no entity can
    // be declared, so nothing expands.
    XML_SetStartDoctypeDeclHandler(parser_, &Walker::OnDoctype);
    if (xml.size() > static_cast<std::size_t>(INT32_MAX)) return Fail(S3XmlError::kTooLarge);
    XML_Status status = XML_Parse(parser_, xml.data(), static_cast<int>(xml.size()), 1);
    parser_ = nullptr;
    return status == XML_STATUS_OK && !failed_;
  }

  S3XmlError error() const { return error_; }

 protected:
  // The path of the element that just ended ("ListBucketResult/Contents/Key") and its text.
  virtual bool End(const std::string& path, const std::string& text) = 0;
  // Called at an element's start; false refuses the document.
  virtual bool Start(const std::string& path) = 0;

  bool Fail(S3XmlError e) {
    if (!failed_) error_ = e;
    failed_ = true;
    if (parser_ != nullptr) XML_StopParser(parser_, XML_FALSE);
    return false;
  }

 private:
  static void OnStart(void* self_ptr, const XML_Char* name, const XML_Char**) {
    auto* self = static_cast<Walker*>(self_ptr);
    if (self->failed_) return;
    if (++self->depth_ > kMaxDepth) {
      self->Fail(S3XmlError::kMalformed);
      return;
    }
    self->lengths_.push_back(self->path_.size());
    if (!self->path_.empty()) self->path_.push_back('/');
    self->path_ += name;
    self->text_.clear();
    if (!self->Start(self->path_)) self->Fail(S3XmlError::kMalformed);
  }
  static void OnEnd(void* self_ptr, const XML_Char*) {
    auto* self = static_cast<Walker*>(self_ptr);
    if (self->failed_) return;
    if (!self->End(self->path_, self->text_)) {
      if (!self->failed_) self->Fail(S3XmlError::kMalformed);
      return;
    }
    self->text_.clear();
    self->path_.resize(self->lengths_.back());
    self->lengths_.pop_back();
    --self->depth_;
  }
  static void OnText(void* self_ptr, const XML_Char* s, int len) {
    auto* self = static_cast<Walker*>(self_ptr);
    if (self->failed_) return;
    if (self->text_.size() + static_cast<std::size_t>(len) > kMaxS3TextBytes) {
      self->Fail(S3XmlError::kTooLarge);
      return;
    }
    self->text_.append(s, static_cast<std::size_t>(len));
  }
  static void OnDoctype(void* self_ptr, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<Walker*>(self_ptr)->Fail(S3XmlError::kMalformed);
  }

  XML_Parser parser_ = nullptr;
  std::string path_, text_;
  std::vector<std::size_t> lengths_;
  std::size_t depth_ = 0;
  bool failed_ = false;
  S3XmlError error_ = S3XmlError::kMalformed;
};

bool ParseSize(const std::string& text, std::uint64_t* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

class ListWalker final : public Walker {
 public:
  S3ListPage page;

  // Every required piece was there.
  bool Complete() const { return seen_root_ && (!page.truncated || !page.next_token.empty()); }

 protected:
  bool Start(const std::string& path) override {
    if (path.find('/') == std::string::npos) {
      if (path != "ListBucketResult") return false;
      seen_root_ = true;
    } else if (path == "ListBucketResult/Contents") {
      if (page.objects.size() + page.prefixes.size() >= kMaxS3PageEntries)
        return Fail(S3XmlError::kTooLarge);
      entry_ = S3ListEntry{};
      has_key_ = has_size_ = false;
    } else if (path == "ListBucketResult/CommonPrefixes") {
      if (page.objects.size() + page.prefixes.size() >= kMaxS3PageEntries)
        return Fail(S3XmlError::kTooLarge);
    }
    return true;
  }

  bool End(const std::string& path, const std::string& text) override {
    if (path == "ListBucketResult/Contents/Key") {
      if (has_key_ || text.empty()) return false;
      entry_.key = text;
      has_key_ = true;
    } else if (path == "ListBucketResult/Contents/Size") {
      if (has_size_ || !ParseSize(text, &entry_.size)) return false;
      has_size_ = true;
    } else if (path == "ListBucketResult/Contents/LastModified") {
      // A time we cannot read is left out, not fatal: only usage figures need it.
      if (auto t = crypto::ParseRfc3339(text)) entry_.last_modified = *t;
    } else if (path == "ListBucketResult/Contents") {
      if (!has_key_ || !has_size_) return false;
      page.objects.push_back(std::move(entry_));
    } else if (path == "ListBucketResult/CommonPrefixes/Prefix") {
      if (text.empty()) return false;
      page.prefixes.push_back(text);
    } else if (path == "ListBucketResult/IsTruncated") {
      if (text != "true" && text != "false") return false;
      page.truncated = text == "true";
    } else if (path == "ListBucketResult/NextContinuationToken") {
      page.next_token = text;
    }
    return true;
  }

 private:
  S3ListEntry entry_;
  bool has_key_ = false, has_size_ = false, seen_root_ = false;
};

class ErrorWalker final : public Walker {
 public:
  std::string code;

 protected:
  bool Start(const std::string& path) override {
    return path.find('/') != std::string::npos || path == "Error";
  }
  bool End(const std::string& path, const std::string& text) override {
    if (path == "Error/Code") code = text;
    return true;
  }
};

}  // namespace

std::expected<S3ListPage, S3XmlError> ParseS3ListPage(std::string_view xml) {
  ListWalker walker;
  if (!walker.Run(xml)) return std::unexpected(walker.error());
  if (!walker.Complete()) return std::unexpected(S3XmlError::kMalformed);
  return std::move(walker.page);
}

std::string ParseS3ErrorCode(std::string_view xml) {
  ErrorWalker walker;
  if (!walker.Run(xml)) return {};
  return walker.code;
}

}  // namespace tessera::backup

// The XML S3 answers with, parsed with expat (network input: a real parser, strict limits, no
// document type declarations, so no entity tricks).
//
// ListObjectsV2 (AWS S3 API Reference, "ListObjectsV2", response elements), as far as we read it:
//
//   <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//     <IsTruncated>true|false</IsTruncated>
//     <NextContinuationToken>...</NextContinuationToken>      required when truncated
//     <Contents><Key>k</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>
//               <Size>123</Size>...</Contents>                 any number
//     <CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>     any number (with a delimiter)
//     ... other elements are skipped
//   </ListBucketResult>
//
// Error bodies (S3 API Reference, "Error responses"): <Error><Code>NoSuchKey</Code>...</Error>.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::backup {

// A page holds at most this many entries (S3 sends up to 1000).
inline constexpr std::size_t kMaxS3PageEntries = 10000;
// Keys, prefixes and tokens longer than this are refused (S3 keys are at most 1024 bytes).
inline constexpr std::size_t kMaxS3TextBytes = 4096;

struct S3ListEntry {
  std::string key;
  std::uint64_t size = 0;
  std::optional<std::int64_t> last_modified;  // Unix seconds, when the store sent a valid time
};

struct S3ListPage {
  std::vector<S3ListEntry> objects;
  std::vector<std::string> prefixes;  // CommonPrefixes
  bool truncated = false;
  std::string next_token;  // when truncated
};

enum class S3XmlError {
  kMalformed,  // not well-formed XML, a DOCTYPE, or not the expected document
  kTooLarge,   // more entries, or longer text, than the limits above
};

// One ListObjectsV2 answer page.
std::expected<S3ListPage, S3XmlError> ParseS3ListPage(std::string_view xml);

// The <Code> of an S3 error document; empty when `xml` is not one.
std::string ParseS3ErrorCode(std::string_view xml);

}  // namespace tessera::backup

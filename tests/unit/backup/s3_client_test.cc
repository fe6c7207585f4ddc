#include "backup/s3_client.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

TEST_CASE("the store's answers map to errors, and only transient ones are retried") {
  struct Case {
    long status;
    const char* code;
    bool ok;
    S3Error error;
    bool transient;
  };
  const Case cases[] = {
      {200, "", true, S3Error::kFailed, false},
      {204, "", true, S3Error::kFailed, false},
      {206, "", true, S3Error::kFailed, false},
      {404, "NoSuchKey", false, S3Error::kNotFound, false},
      {404, "", false, S3Error::kNotFound, false},  // HEAD: no body, no code
      {404, "NoSuchBucket", false, S3Error::kNoBucket, false},
      {412, "PreconditionFailed", false, S3Error::kExists, false},
      {403, "SignatureDoesNotMatch", false, S3Error::kDenied, false},
      {403, "AccessDenied", false, S3Error::kDenied, false},
      {400, "XAmzContentSHA256Mismatch", false, S3Error::kBadContent, false},
      {400, "BadDigest", false, S3Error::kBadContent, false},
      {400, "InvalidArgument", false, S3Error::kFailed, false},
      {411, "MissingContentLength", false, S3Error::kFailed, false},
      {416, "InvalidRange", false, S3Error::kFailed, false},
      {301, "PermanentRedirect", false, S3Error::kFailed, false},
      {408, "RequestTimeout", false, S3Error::kUnavailable, true},
      {429, "", false, S3Error::kUnavailable, true},
      {500, "InternalError", false, S3Error::kUnavailable, true},
      {502, "", false, S3Error::kUnavailable, true},
      {503, "SlowDown", false, S3Error::kUnavailable, true},
      {504, "", false, S3Error::kUnavailable, true},
  };
  for (const auto& c : cases) {
    INFO(c.status << " " << c.code);
    auto verdict = S3VerdictOf(c.status, c.code);
    REQUIRE(verdict.has_value() == !c.ok);
    if (c.ok) continue;
    CHECK(verdict->error == c.error);
    CHECK(verdict->transient == c.transient);
  }
}

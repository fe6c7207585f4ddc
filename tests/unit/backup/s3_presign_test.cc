// Presigned GETs against AWS's own worked example ("Authenticating Requests: Using Query
// Parameters (AWS Signature Version 4)", the GET of examplebucket/test.txt on 24 May 2013 with
// the documentation's example key pair), the shape of a path-style URL on a port, and the
// client's download URLs dated by the clock it is given.
#include "backup/s3_presign.h"

#include <catch2/catch.hpp>

#include "backup/s3_client.h"
#include "clock/clock.h"

using namespace tessera;

TEST_CASE("a presigned GET matches AWS's worked example") {
  backup::S3Credentials aws("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  backup::S3Endpoint endpoint{"https", "s3.amazonaws.com", ""};
  auto url = backup::PresignGet(aws, endpoint, backup::S3Addressing::kVirtual, "us-east-1",
                                "examplebucket", "test.txt", 1369353600, std::chrono::hours(24));
  CHECK(url.host == "examplebucket.s3.amazonaws.com");
  CHECK(url.path_and_query ==
        "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("a path-style presigned GET names the bucket in the path and the port in the host") {
  backup::S3Credentials key("AK", "secret");
  backup::S3Endpoint endpoint{"http", "127.0.0.1", "7480"};
  auto url =
      backup::PresignGet(key, endpoint, backup::S3Addressing::kPath, "us-east-1", "b1",
                         "tessera/7/laptop/data/ab/abcd", 1800000000, std::chrono::seconds(60));
  CHECK(url.host == "127.0.0.1:7480");
  CHECK(url.path_and_query.starts_with("/b1/tessera/7/laptop/data/ab/abcd?X-Amz-Algorithm="));
  CHECK(url.path_and_query.find("&X-Amz-Expires=60&") != std::string::npos);
  // Another second, another signature; the same inputs, the same URL.
  auto later =
      backup::PresignGet(key, endpoint, backup::S3Addressing::kPath, "us-east-1", "b1",
                         "tessera/7/laptop/data/ab/abcd", 1800000001, std::chrono::seconds(60));
  CHECK(later.path_and_query != url.path_and_query);
  CHECK(backup::PresignGet(key, endpoint, backup::S3Addressing::kPath, "us-east-1", "b1",
                           "tessera/7/laptop/data/ab/abcd", 1800000000, std::chrono::seconds(60))
            .path_and_query == url.path_and_query);
}

TEST_CASE("the client's presigned URL is dated by the clock it is given") {
  backup::S3ClientOptions options;
  options.endpoint = backup::S3Endpoint{"http", "127.0.0.1", "7480"};
  options.bucket = "b1";
  backup::S3Client client(options, backup::S3Credentials("AK", "secret"));
  const std::string key = "tessera/7/laptop/data/ab/abcd";
  clock::FixedClock clock(1800000000);  // 2027-01-15T08:00:00Z
  auto expected = [&](std::int64_t now) {
    auto signed_get = backup::PresignGet(backup::S3Credentials("AK", "secret"), options.endpoint,
                                         backup::S3Addressing::kPath, "us-east-1", "b1", key, now,
                                         backup::kPresignedLifetime);
    return "http://" + signed_get.host + signed_get.path_and_query;
  };
  std::string url = client.PresignedUrl(key, clock);
  CHECK(url == expected(1800000000));
  CHECK(url.find("&X-Amz-Date=20270115T080000Z&") != std::string::npos);
  clock.Set(1800000000 + 3600);
  CHECK(client.PresignedUrl(key, clock) == expected(1800000000 + 3600));
}

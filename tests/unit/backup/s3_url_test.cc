#include "backup/s3_url.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

TEST_CASE("s3:// locations name a valid bucket and an optional clean prefix") {
  struct Case {
    const char* uri;
    bool ok;
    const char* bucket;
    const char* prefix;
  };
  const Case cases[] = {
      {"s3://backups", true, "backups", ""},
      {"s3://backups/", true, "backups", ""},
      {"s3://backups/tessera", true, "backups", "tessera"},
      {"s3://my.bucket-1/a/b_c/d.e/", true, "my.bucket-1", "a/b_c/d.e"},
      {"s3://ab", false, "", ""},              // too short
      {"s3://Backups", false, "", ""},         // upper case
      {"s3://-backups", false, "", ""},        // leading '-'
      {"s3://back..ups", false, "", ""},       // ".."
      {"s3://backups//x", false, "", ""},      // empty segment
      {"s3://backups/a/../b", false, "", ""},  // dot-dot segment
      {"s3://backups/a/./b", false, "", ""},   // dot segment
      {"s3://backups/a b", false, "", ""},     // space
      {"s3://backups/a%2Fb", false, "", ""},   // encoded
      {"http://backups/x", false, "", ""},     // wrong scheme
      {"s3:/backups", false, "", ""},          // not a URI
      {"", false, "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.uri);
    auto parsed = ParseS3Location(c.uri);
    REQUIRE(parsed.has_value() == c.ok);
    if (!c.ok) continue;
    CHECK(parsed->bucket == c.bucket);
    CHECK(parsed->prefix == c.prefix);
  }
  CHECK_FALSE(ParseS3Location("s3://b12/" + std::string(513, 'a')));
  CHECK(ParseS3Location("s3://b12/" + std::string(512, 'a')));
}

TEST_CASE("endpoints are a scheme, a host and an optional port, nothing else") {
  struct Case {
    const char* url;
    bool ok;
    const char* scheme;
    const char* host;
    const char* port;
  };
  const Case cases[] = {
      {"http://127.0.0.1:7480", true, "http", "127.0.0.1", "7480"},
      {"https://s3.eu-central-1.amazonaws.com", true, "https", "s3.eu-central-1.amazonaws.com", ""},
      {"https://s3.example.org/", true, "https", "s3.example.org", ""},
      {"http://[::1]:9000", true, "http", "[::1]", "9000"},
      {"http://[::1]", true, "http", "[::1]", ""},
      {"ftp://host", false, "", "", ""},
      {"http://", false, "", "", ""},
      {"http://host:0", false, "", "", ""},
      {"http://host:65536", false, "", "", ""},
      {"http://host:", false, "", "", ""},
      {"http://host:80x", false, "", "", ""},
      {"http://host:65535", true, "http", "host", "65535"},
      {"http://host:99999", false, "", "", ""},
      {"http://host:000080", false, "", "", ""},
      {"http://host:-80", false, "", "", ""},
      {"http://host:+80", false, "", "", ""},
      {"http://host: 80", false, "", "", ""},
      {"http://host:x", false, "", "", ""},
      {"http://host/path", false, "", "", ""},
      {"http://user@host", false, "", "", ""},
      {"http://host?x=1", false, "", "", ""},
      {"http://-host", false, "", "", ""},
      {"http://a..b", false, "", "", ""},
      {"http://[zz]", false, "", "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    auto parsed = ParseS3Endpoint(c.url);
    REQUIRE(parsed.has_value() == c.ok);
    if (!c.ok) continue;
    CHECK(parsed->scheme == c.scheme);
    CHECK(parsed->host == c.host);
    CHECK(parsed->port == c.port);
  }
}

TEST_CASE("SigV4 URI encoding keeps only unreserved bytes, and '/' in keys") {
  CHECK(S3UriEncode("AZaz09-._~", false) == "AZaz09-._~");
  CHECK(S3UriEncode("a/b c+d=e", false) == "a%2Fb%20c%2Bd%3De");
  CHECK(S3UriEncode("a/b c+d=e", true) == "a/b%20c%2Bd%3De");
  CHECK(S3UriEncode("\xc3\xa9*", false) == "%C3%A9%2A");
  CHECK(S3UriEncode("", true).empty());
}

TEST_CASE("canonical queries are encoded, then sorted by name") {
  CHECK(S3CanonicalQuery({}) == "");
  CHECK(S3CanonicalQuery({{"prefix", "t/42/laptop/data/"},
                          {"list-type", "2"},
                          {"delimiter", "/"},
                          {"continuation-token", "1/ab+c=="},
                          {"max-keys", "1000"}}) ==
        "continuation-token=1%2Fab%2Bc%3D%3D&delimiter=%2F&list-type=2&max-keys=1000&"
        "prefix=t%2F42%2Flaptop%2Fdata%2F");
  CHECK(S3CanonicalQuery({{"b", ""}, {"a", "x y"}}) == "a=x%20y&b=");
}

TEST_CASE("object and bucket URLs follow the addressing style") {
  S3Endpoint local{"http", "127.0.0.1", "7480"};
  S3Endpoint aws{"https", "s3.eu-west-1.amazonaws.com", ""};
  CHECK(S3Url(local, S3Addressing::kPath, "backups", "t/42/laptop/config") ==
        "http://127.0.0.1:7480/backups/t/42/laptop/config");
  CHECK(S3Url(local, S3Addressing::kPath, "backups", "", "list-type=2") ==
        "http://127.0.0.1:7480/backups?list-type=2");
  CHECK(S3Url(aws, S3Addressing::kVirtual, "backups", "42/a b") ==
        "https://backups.s3.eu-west-1.amazonaws.com/42/a%20b");
  CHECK(S3Url(aws, S3Addressing::kVirtual, "backups", "", "list-type=2&max-keys=1") ==
        "https://backups.s3.eu-west-1.amazonaws.com/?list-type=2&max-keys=1");
}

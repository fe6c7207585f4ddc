#include "backup/s3_xml.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

namespace {
constexpr const char* kHead =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
std::string Doc(const std::string& body) { return kHead + body + "</ListBucketResult>"; }
}  // namespace

TEST_CASE("a ListObjectsV2 page yields its objects, prefixes and continuation") {
  // As Ceph RGW 16 sends it.
  auto page = ParseS3ListPage(
      Doc("<Name>bucket1</Name><Prefix></Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
          "<Contents><Key>a1</Key><LastModified>2026-12-02T06:19:47.747Z</LastModified>"
          "<ETag>&quot;311bbfeaa4c84d7cae7365df826827d1&quot;</ETag><Size>100000</Size>"
          "<StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>"
          "<Contents><Key>a&amp;3</Key><LastModified>not a time</LastModified><Size>0</Size>"
          "</Contents><CommonPrefixes><Prefix>t/42/</Prefix></CommonPrefixes>"
          "<NextContinuationToken>a3/+=</NextContinuationToken><KeyCount>2</KeyCount>"));
  REQUIRE(page);
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].key == "a1");
  CHECK(page->objects[0].size == 100000);
  CHECK(page->objects[0].last_modified == 1796192387);
  CHECK(page->objects[1].key == "a&3");
  CHECK(page->objects[1].size == 0);
  CHECK_FALSE(page->objects[1].last_modified);
  CHECK(page->prefixes == std::vector<std::string>{"t/42/"});
  CHECK(page->truncated);
  CHECK(page->next_token == "a3/+=");
}

TEST_CASE("an empty last page is a page") {
  auto page = ParseS3ListPage(Doc("<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"));
  REQUIRE(page);
  CHECK(page->objects.empty());
  CHECK_FALSE(page->truncated);
}

TEST_CASE("malformed or unexpected listings are refused") {
  const std::string cases[] = {
      "",
      "not xml",
      kHead,                                                    // unterminated
      "<ListAllMyBucketsResult></ListAllMyBucketsResult>",      // another document
      "<Error><Code>NoSuchBucket</Code></Error>",               // an error body
      Doc("<IsTruncated>maybe</IsTruncated>"),                  // not a boolean
      Doc("<IsTruncated>true</IsTruncated>"),                   // truncated without a token
      Doc("<Contents><Size>1</Size></Contents>"),               // no key
      Doc("<Contents><Key>k</Key></Contents>"),                 // no size
      Doc("<Contents><Key></Key><Size>1</Size></Contents>"),    // empty key
      Doc("<Contents><Key>k</Key><Size>-1</Size></Contents>"),  // negative size
      Doc("<Contents><Key>k</Key><Size>1x</Size></Contents>"),  // not a number
      Doc("<Contents><Key>k</Key><Size>99999999999999999999</Size></Contents>"),  // overflow
      Doc("<Contents><Key>k</Key><Key>j</Key><Size>1</Size></Contents>"),         // two keys
      Doc("<CommonPrefixes><Prefix></Prefix></CommonPrefixes>"),                  // empty prefix
      // A document type declaration, the door to entity expansion, is refused outright.
      "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\">]>"
      "<ListBucketResult><Contents><Key>&a;</Key><Size>1</Size></Contents></ListBucketResult>",
      Doc("<Contents><Key>&undefined;</Key><Size>1</Size></Contents>"),
  };
  for (const std::string& xml : cases) {
    INFO(xml);
    auto page = ParseS3ListPage(xml);
    REQUIRE_FALSE(page);
    CHECK(page.error() == S3XmlError::kMalformed);
  }
}

TEST_CASE("listings beyond the size limits are refused as too large") {
  std::string nested;
  for (int i = 0; i < 20; ++i) nested += "<a>";
  for (int i = 0; i < 20; ++i) nested += "</a>";
  auto too_deep = ParseS3ListPage(Doc(nested));
  REQUIRE_FALSE(too_deep);
  CHECK(too_deep.error() == S3XmlError::kMalformed);

  auto long_key = ParseS3ListPage(Doc("<Contents><Key>" + std::string(kMaxS3TextBytes + 1, 'k') +
                                      "</Key><Size>1</Size>"
                                      "</Contents>"));
  REQUIRE_FALSE(long_key);
  CHECK(long_key.error() == S3XmlError::kTooLarge);

  std::string many;
  for (std::size_t i = 0; i <= kMaxS3PageEntries; ++i)
    many += "<CommonPrefixes><Prefix>p</Prefix></CommonPrefixes>";
  auto too_many = ParseS3ListPage(Doc(many));
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error() == S3XmlError::kTooLarge);
}

TEST_CASE("error documents give their code") {
  CHECK(ParseS3ErrorCode("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                         "XAmzContentSHA256Mismatch</Code><Message></Message><BucketName>b"
                         "</BucketName></Error>") == "XAmzContentSHA256Mismatch");
  CHECK(ParseS3ErrorCode("<Error><Message>no code</Message></Error>").empty());
  CHECK(ParseS3ErrorCode("<NotError><Code>X</Code></NotError>").empty());
  CHECK(ParseS3ErrorCode("<Error><Code>X").empty());
  CHECK(ParseS3ErrorCode("").empty());
}

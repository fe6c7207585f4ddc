#include "backup/s3_presign.h"

#include <sodium.h>

#include <array>
#include <ctime>

#include "encoding/hex.h"

namespace tessera::backup {
namespace {

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

Mac Hmac(std::string_view key, std::string_view message) {
  Mac out;
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

std::string_view View(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return encoding::Hex(digest);
}

// "20130524T000000Z" of Unix seconds, in UTC.
std::string AmzDate(std::int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace

PresignedGet PresignGet(const S3Credentials& credentials, const S3Endpoint& endpoint,
                        S3Addressing addressing, std::string_view region, std::string_view bucket,
                        std::string_view key, std::int64_t now, std::chrono::seconds lifetime) {
  const std::string date_time = AmzDate(now);
  const std::string date = date_time.substr(0, 8);
  const std::string scope = date + "/" + std::string(region) + "/s3/aws4_request";
  std::string authority = endpoint.host + (endpoint.port.empty() ? "" : ":" + endpoint.port);
  std::string path;
  if (addressing == S3Addressing::kVirtual) {
    authority = std::string(bucket) + "." + authority;
    path = "/" + S3UriEncode(key, true);
  } else {
    path = "/" + std::string(bucket) + "/" + S3UriEncode(key, true);
  }
  std::string query =
      S3CanonicalQuery({{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                        {"X-Amz-Credential", credentials.access_key() + "/" + scope},
                        {"X-Amz-Date", date_time},
                        {"X-Amz-Expires", std::to_string(lifetime.count())},
                        {"X-Amz-SignedHeaders", "host"}});
  std::string canonical =
      "GET\n" + path + "\n" + query + "\nhost:" + authority + "\n\nhost\nUNSIGNED-PAYLOAD";
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + date_time + "\n" + scope + "\n" + Sha256Hex(canonical);
  // The signing key: the secret, then the date, region, service and terminator, each an HMAC.
  std::string first = "AWS4" + credentials.secret();
  Mac key_date = Hmac(first, date);
  sodium_memzero(first.data(), first.size());
  Mac key_region = Hmac(View(key_date), region);
  Mac key_service = Hmac(View(key_region), "s3");
  Mac signing = Hmac(View(key_service), "aws4_request");
  Mac signature = Hmac(View(signing), to_sign);
  for (Mac* m : {&key_date, &key_region, &key_service, &signing})
    sodium_memzero(m->data(), m->size());
  return {authority, path + "?" + query + "&X-Amz-Signature=" + encoding::Hex(signature)};
}

}  // namespace tessera::backup

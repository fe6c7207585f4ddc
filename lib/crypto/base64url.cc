#include "crypto/base64url.h"

#include <sodium.h>

namespace tessera::crypto {
namespace {
int Variant(Base64Alphabet a) {
  return a == Base64Alphabet::kUrlSafe ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                       : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
}
}  // namespace

std::string Base64Encode(std::span<const std::uint8_t> data, Base64Alphabet alphabet) {
  int variant = Variant(alphabet);
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::expected<std::vector<std::uint8_t>, Base64Error> Base64Decode(std::string_view text,
                                                                   std::size_t max_text,
                                                                   Base64Alphabet alphabet) {
  if (text.size() > max_text) return std::unexpected(Base64Error::kTooLong);
  // Four characters carry three bytes; one character left over can carry none.
  if (text.size() % 4 == 1) return std::unexpected(Base64Error::kMalformed);
  std::vector<std::uint8_t> out(text.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  // libsodium stops at the first character outside the alphabet ('=' included for the no-padding
  // variants) and refuses non-zero trailing bits; we also require it to consume everything.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        Variant(alphabet)) != 0 ||
      end != text.data() + text.size()) {
    return std::unexpected(Base64Error::kMalformed);
  }
  out.resize(len);
  return out;
}

}  // namespace tessera::crypto

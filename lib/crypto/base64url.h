// Base64 as PASETO and PASERK use it: the URL-safe alphabet without padding (RFC 4648 section 5),
// decoded strictly — padding, characters outside the alphabet, impossible lengths and non-zero
// trailing bits are all refused, so each byte string has exactly one encoding. Also the standard
// alphabet without padding, which Proxmox tickets use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::crypto {

enum class Base64Error { kTooLong, kMalformed };

enum class Base64Alphabet { kUrlSafe, kStandard };

std::string Base64Encode(std::span<const std::uint8_t> data,
                         Base64Alphabet alphabet = Base64Alphabet::kUrlSafe);
inline std::string Base64Encode(std::string_view data,
                                Base64Alphabet alphabet = Base64Alphabet::kUrlSafe) {
  return Base64Encode(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                      alphabet);
}

// Decodes unpadded base64. Refuses input longer than `max_text` characters (kTooLong) before
// decoding, and any non-canonical input (kMalformed). Thread-safe.
std::expected<std::vector<std::uint8_t>, Base64Error> Base64Decode(
    std::string_view text, std::size_t max_text,
    Base64Alphabet alphabet = Base64Alphabet::kUrlSafe);

}  // namespace tessera::crypto

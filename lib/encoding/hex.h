// Hexadecimal text of bytes: the one encoder every part of Tessera uses (digests in revocation
// ids, checksums and object names; \xNN escapes in log lines; %XX escapes in URLs and cookies).
// It is libsodium's sodium_bin2hex, which runs in constant time, so it may encode a secret's
// digest as well. Lower case; a caller that needs upper case (RFC 3986 percent-encoding, AWS
// SigV4) says so.
//
// The lowest layer: it includes nothing of Tessera's, so every other area may use it. Pure and
// thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tessera::encoding {

enum class HexCase { kLower, kUpper };

// Appends two hex digits per byte of `bytes` to `out`.
void AppendHex(std::string& out, std::span<const unsigned char> bytes,
               HexCase letters = HexCase::kLower);
void AppendHex(std::string& out, std::string_view bytes, HexCase letters = HexCase::kLower);

// Two hex digits per byte of `bytes`.
std::string Hex(std::span<const unsigned char> bytes, HexCase letters = HexCase::kLower);
std::string Hex(std::string_view bytes, HexCase letters = HexCase::kLower);

}  // namespace tessera::encoding

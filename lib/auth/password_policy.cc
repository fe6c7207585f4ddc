#include "auth/password_policy.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "auth/login_request.h"
#include "names/utf8.h"

namespace tessera::auth {
namespace {

// The first passwords of eight or more characters in the published lists of leaked passwords
// (shorter ones already fail the length floor; runs and repeats such as "12345678" or
// "11111111" fail the repetition check). Lower case: compared without regard to ASCII case.
constexpr std::array<std::string_view, 64> kCommon = {
    "password", "password1",  "password12", "password123",   "passw0rd",  "p@ssw0rd",
    "p@ssword", "iloveyou",   "iloveyou1",  "sunshine",      "princess",  "football",
    "baseball", "basketball", "welcome1",   "welcome123",    "abc12345",  "abcd1234",
    "qwerty12", "qwerty123",  "qwertyuiop", "qwertyui",      "asdfghjkl", "asdfasdf",
    "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx",   "zaq12wsx",      "qazwsxedc", "trustno1",
    "superman", "starwars",   "whatever",   "dragon12",      "letmein1",  "letmein123",
    "master12", "changeme",   "changeit",   "administrator", "admin123",  "admin1234",
    "computer", "internet",   "michael1",   "jennifer",      "charlie1",  "corvette",
    "mercedes", "liverpool",  "chelsea1",   "arsenal1",      "pokemon1",  "blink182",
    "monkey12", "shadow12",   "football1",  "baseball1",     "secret12",  "security",
    "proxmox1", "backup123",  "restic123",  "tessera1",
};

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return out;
}

// The code points of well-formed UTF-8.
std::vector<char32_t> CodePoints(std::string_view text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t c = n == 1 ? lead : lead & (0x7F >> n);
    for (std::size_t k = 1; k < n && i + k < text.size(); ++k)
      c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

// Fewer than four distinct characters, or every step from one character to the next the same
// step of at most one ("aaaaaaaa", "abcdefgh", "87654321").
bool IsRepetitive(const std::vector<char32_t>& chars) {
  std::vector<char32_t> distinct = chars;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  bool few = distinct.size() < 4;
  sodium_memzero(distinct.data(), distinct.size() * sizeof(char32_t));
  if (few) return true;
  auto step = static_cast<long long>(chars[1]) - static_cast<long long>(chars[0]);
  if (step < -1 || step > 1) return false;
  for (std::size_t i = 2; i < chars.size(); ++i) {
    if (static_cast<long long>(chars[i]) - static_cast<long long>(chars[i - 1]) != step)
      return false;
  }
  return true;
}

// The weakness of a password of valid text within the byte bound, given its code points and its
// ASCII-lowered form; nullopt when it has none of these.
std::optional<PasswordWeakness> Weakness(const std::vector<char32_t>& chars,
                                         const std::string& lower, std::string_view userid) {
  if (chars.size() < kMinPasswordChars) return PasswordWeakness::kTooShort;
  if (std::find(kCommon.begin(), kCommon.end(), lower) != kCommon.end())
    return PasswordWeakness::kCommon;
  if (IsRepetitive(chars)) return PasswordWeakness::kRepetitive;
  std::string name = AsciiLower(userid.substr(0, userid.find('@')));
  if (name.size() >= 3 && lower.find(name) != std::string::npos)
    return PasswordWeakness::kHoldsName;
  return std::nullopt;
}

}  // namespace

std::expected<void, PasswordWeakness> CheckNewPassword(std::string_view password,
                                                       std::string_view userid,
                                                       std::string_view current) {
  if (password.size() > kMaxPasswordBytes) return std::unexpected(PasswordWeakness::kTooLong);
  if (!names::IsValidUtf8(password) || names::HasControlCharacter(password))
    return std::unexpected(PasswordWeakness::kNotText);
  // Copies of the password are wiped before they go.
  std::vector<char32_t> chars = CodePoints(password);
  std::string lower = AsciiLower(password);
  std::optional<PasswordWeakness> weakness = Weakness(chars, lower, userid);
  sodium_memzero(chars.data(), chars.size() * sizeof(char32_t));
  sodium_memzero(lower.data(), lower.size());
  if (weakness) return std::unexpected(*weakness);
  if (password.size() == current.size() &&
      sodium_memcmp(password.data(), current.data(), password.size()) == 0)
    return std::unexpected(PasswordWeakness::kSameAsBefore);
  return {};
}

// Describe's sentences name these figures.
static_assert(kMinPasswordChars == 8 && kMaxPasswordBytes == 4096);

std::string_view Describe(PasswordWeakness weakness) {
  switch (weakness) {
    case PasswordWeakness::kTooShort:
      return "the new password needs at least 8 characters";
    case PasswordWeakness::kTooLong:
      return "the new password may have at most 4096 bytes";
    case PasswordWeakness::kNotText:
      return "the new password must be text without control characters";
    case PasswordWeakness::kCommon:
      return "the new password is one of the most used passwords: choose another";
    case PasswordWeakness::kRepetitive:
      return "the new password is a repetition or a run of characters: choose another";
    case PasswordWeakness::kHoldsName:
      return "the new password holds the user name: choose another";
    case PasswordWeakness::kSameAsBefore:
      return "the new password is the current one: choose another";
  }
  return "the new password is refused";
}

}  // namespace tessera::auth

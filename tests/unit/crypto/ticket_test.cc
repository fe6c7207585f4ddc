#include "crypto/ticket.h"

#include <catch2/catch.hpp>

#include "crypto/base64url.h"
#include "crypto/csrf.h"

using namespace tessera::crypto;

namespace {
constexpr std::int64_t kNow = 1800000000;  // 0x6B49D200
TicketKeys Keys() { return TicketKeys(*SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {}); }
}  // namespace

TEST_CASE("a ticket has the Proxmox form and verifies") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  CHECK(t.rfind("PBS:alice@pbs:6B49D200::", 0) == 0);
  CHECK(t.size() == std::string("PBS:alice@pbs:6B49D200::").size() + 86);  // 64 bytes, no padding
  auto v = keys.Verify(t, kNow);
  REQUIRE(v);
  CHECK(v->userid() == "alice@pbs");
  CHECK(v->time() == kNow);
  CHECK(v->revocation_id().size() == 64);
  CHECK(TicketInfo(t) == "PBS:alice@pbs:6B49D200::ticketinfo");
}

TEST_CASE("ticket window: 300 s early to 7200 s late") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  CHECK(keys.Verify(t, kNow - 300).has_value());
  CHECK(keys.Verify(t, kNow - 301).error() == TicketError::kFromFuture);
  CHECK(keys.Verify(t, kNow + 7200).has_value());
  CHECK(keys.Verify(t, kNow + 7201).error() == TicketError::kExpired);
}

TEST_CASE("a remembered ticket still expires and is still refused from the future") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  auto first = keys.Verify(t, kNow);
  REQUIRE(first);
  CHECK(keys.memo_hits() == 0);
  auto again = keys.Verify(t, kNow);  // from the memo
  REQUIRE(again);
  CHECK(keys.memo_hits() == 1);
  CHECK(again->userid() == "alice@pbs");
  CHECK(again->revocation_id() == first->revocation_id());
  CHECK(keys.Verify(t, kNow + 7200).has_value());
  CHECK(keys.Verify(t, kNow + 7201).error() == TicketError::kExpired);
  CHECK(keys.Verify(t, kNow - 301).error() == TicketError::kFromFuture);
  CHECK(keys.memo_hits() == 4);
  // A flipped signature character is refused although the genuine ticket is remembered.
  std::string flipped = t;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  CHECK(keys.Verify(flipped, kNow).error() == TicketError::kBadSignature);
  CHECK(keys.Verify(flipped, kNow).error() == TicketError::kBadSignature);
  CHECK(keys.memo_hits() == 4);
}

TEST_CASE("a ticket outside its window is not remembered") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  CHECK(keys.Verify(t, kNow + 7201).error() == TicketError::kExpired);
  CHECK(keys.Verify(t, kNow + 7201).error() == TicketError::kExpired);
  CHECK(keys.memo_hits() == 0);
  CHECK(keys.memo_misses() == 2);
}

TEST_CASE("older keys still verify; unknown keys do not") {
  SecretKey old_key = *SecretKey::FromSeed(std::vector<std::uint8_t>(32, 1));
  PublicKey old_public = old_key.Public();
  std::string old_ticket = TicketKeys(std::move(old_key), {}).Issue("alice@pbs", kNow);
  CHECK(Keys().Verify(old_ticket, kNow).error() == TicketError::kBadSignature);
  TicketKeys rotated(*SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {old_public});
  CHECK(rotated.Verify(old_ticket, kNow).has_value());
}

TEST_CASE("ticket parsing: one negative test per error") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  std::string sig = t.substr(t.find("::") + 2);
  struct Case {
    std::string ticket;
    TicketError error;
  };
  std::string flipped = t;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  const Case cases[] = {
      {std::string(600, 'P'), TicketError::kTooLong},
      {"PBS:alice@pbs:6B49D200", TicketError::kMalformed},                    // no signature
      {"PBS:6B49D200::" + sig, TicketError::kMalformed},                      // no userid field
      {"PBS:alice@pbs:6b49d200::" + sig, TicketError::kMalformed},            // lower-case hex
      {"PBS:alice@pbs:6B49D20::" + sig, TicketError::kMalformed},             // 7 digits
      {"PBS:alice@pbs:6B49D200::" + sig + "==", TicketError::kMalformed},     // padded
      {"PBS:alice@pbs:6B49D200::" + sig.substr(4), TicketError::kMalformed},  // short
      {"PBS:alice@pbs:6B49D200::" + Base64Encode(sig), TicketError::kMalformed},
      {"PMX:alice@pbs:6B49D200::" + sig, TicketError::kWrongPrefix},
      {"PBS:alice:6B49D200::" + sig, TicketError::kBadUserid},
      {"PBS:bob@pbs:6B49D200::" + sig, TicketError::kBadSignature},
      {flipped, TicketError::kBadSignature},
  };
  for (const auto& c : cases) {
    INFO(c.ticket);
    auto r = keys.Verify(c.ticket, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error() == c.error);
  }
}

TEST_CASE("CSRF tokens bind user and time, and expire with the ticket window") {
  auto key = CsrfKey::FromBytes(std::vector<std::uint8_t>(32, 9));
  REQUIRE(key);
  std::string token = key->Make("alice@pbs", kNow);
  CHECK(token.rfind("6B49D200:", 0) == 0);
  CHECK(key->Verify(token, "alice@pbs", kNow).has_value());
  CHECK(key->Verify(token, "bob@pbs", kNow).error() == CsrfError::kMismatch);
  CHECK(key->Verify(token, "alice@pbs", kNow + 7201).error() == CsrfError::kExpired);
  CHECK(key->Verify(token, "alice@pbs", kNow - 301).error() == CsrfError::kFromFuture);
  auto other = CsrfKey::FromBytes(std::vector<std::uint8_t>(32, 8));
  CHECK(other->Verify(token, "alice@pbs", kNow).error() == CsrfError::kMismatch);
  for (const std::string& bad :
       {std::string(""), std::string("6B49D200"), std::string("6b49d200:") + token.substr(9),
        token + "=", "6B49D200:" + token.substr(9, 20), std::string(200, 'A')}) {
    INFO(bad);
    CHECK(key->Verify(bad, "alice@pbs", kNow).error() == CsrfError::kMalformed);
  }
  CHECK(CsrfKey::FromBytes(std::vector<std::uint8_t>(31)).error() == CsrfError::kMalformed);
}

TEST_CASE("a remembered signature still gets its time window and its exact text checked") {
  TicketKeys keys = Keys();
  std::string t = keys.Issue("alice@pbs", kNow);
  REQUIRE(keys.Verify(t, kNow));  // now remembered
  CHECK(keys.Verify(t, kNow + 7201).error() == TicketError::kExpired);
  CHECK(keys.Verify(t, kNow - 301).error() == TicketError::kFromFuture);
  std::string other_user = "PBS:bob@pbs:6B49D200::" + t.substr(t.find("::") + 2);
  CHECK(keys.Verify(other_user, kNow).error() == TicketError::kBadSignature);
  CHECK(keys.Verify(t, kNow)->revocation_id() == keys.Verify(t, kNow + 1)->revocation_id());
}

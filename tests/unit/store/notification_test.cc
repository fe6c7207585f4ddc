#include "store/notification.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "store/sql_text.h"

using namespace tessera::store;

namespace {
const std::string kHash(64, 'a');

NotifyError Refusal(std::string_view channel, std::string_view payload) {
  auto parsed = ParseNotification(channel, payload);
  REQUIRE_FALSE(parsed);
  return parsed.error();
}
}  // namespace

TEST_CASE("well-formed payloads on each channel") {
  auto account = ParseNotification("tessera_accounts", "alice@pbs");
  REQUIRE(account);
  CHECK(std::get<AccountChanged>(*account).userid == "alice@pbs");

  auto grant = ParseNotification("tessera_tokens", "Ab0_-z");
  REQUIRE(grant);
  CHECK(std::get<GrantChanged>(*grant).jti == "Ab0_-z");
  CHECK(ParseNotification("tessera_tokens", std::string(64, 'x')));

  auto revoked = ParseNotification("tessera_revocations", kHash + " 1800000000");
  REQUIRE(revoked);
  CHECK(std::get<TicketRevoked>(*revoked).ticket_hash == kHash);
  CHECK(std::get<TicketRevoked>(*revoked).expires_at == 1800000000);
  auto forever = ParseNotification("tessera_revocations", kHash + " infinity");
  REQUIRE(forever);
  CHECK(std::get<TicketRevoked>(*forever).expires_at == kEndOfTime);
  auto never = ParseNotification("tessera_revocations", kHash + " -infinity");
  REQUIRE(never);
  CHECK(std::get<TicketRevoked>(*never).expires_at == kBeginningOfTime);
  auto past = ParseNotification("tessera_revocations", kHash + " -62135596800");
  REQUIRE(past);
  CHECK(std::get<TicketRevoked>(*past).expires_at == -62135596800);

  for (const char* channel : {"tessera_accounts", "tessera_tokens", "tessera_revocations"}) {
    auto reload = ParseNotification(channel, "*");
    REQUIRE(reload);
    CHECK(std::holds_alternative<ReloadAll>(*reload));
  }
}

TEST_CASE("malformed payloads are refused, one error per failure") {
  CHECK(Refusal("tessera_other", "alice@pbs") == NotifyError::kUnknownChannel);
  CHECK(Refusal("", "alice@pbs") == NotifyError::kUnknownChannel);
  for (const char* channel : {"tessera_accounts", "tessera_tokens", "tessera_revocations"}) {
    INFO(channel);
    CHECK(Refusal(channel, "") == NotifyError::kEmpty);
    CHECK(Refusal(channel, std::string(kMaxPayload + 1, 'a')) == NotifyError::kTooLong);
    CHECK(Refusal(channel, std::string(8000, '7')) == NotifyError::kTooLong);
  }

  for (const std::string& bad :
       std::vector<std::string>{"junk", "alice", "@pbs", "alice@p", "al ice@pbs", "a:b@pbs",
                                "a/b@pbs", std::string("al\nice@pbs"), std::string("al\0ce@pbs", 9),
                                "alice@pbs*", std::string(60, 'a') + "@pbs1", "**"}) {
    INFO(bad);
    CHECK(Refusal("tessera_accounts", bad) == NotifyError::kBadUserid);
  }

  for (const std::string& bad : std::vector<std::string>{
           "a b", "a.b", "a/b", "ä", std::string(65, 'a'), "jti\n", "'; DROP", "**"}) {
    INFO(bad);
    CHECK(Refusal("tessera_tokens", bad) == NotifyError::kBadJti);
  }

  CHECK(Refusal("tessera_revocations", "junk") == NotifyError::kBadShape);
  CHECK(Refusal("tessera_revocations", kHash) == NotifyError::kBadShape);
  for (const std::string& bad : std::vector<std::string>{
           std::string(63, 'a') + " 1", std::string(65, 'a') + " 1", std::string(64, 'A') + " 1",
           std::string(64, 'g') + " 1", " 1", "x 1800000000"}) {
    INFO(bad);
    CHECK(Refusal("tessera_revocations", bad) == NotifyError::kBadTicketHash);
  }
  for (const std::string& bad : std::vector<std::string>{
           kHash + " ", kHash + " junk", kHash + "  1", kHash + " 1 ", kHash + " +1",
           kHash + " 1.5", kHash + " 99999999999999999999", kHash + " Infinity", kHash + " 1 2"}) {
    INFO(bad);
    CHECK(Refusal("tessera_revocations", bad) == NotifyError::kBadTime);
  }
}

TEST_CASE("log prefixes of untrusted payloads are short and printable") {
  CHECK(LogSafePrefix("alice@pbs") == "alice@pbs");
  CHECK(LogSafePrefix("a\nb\x1b[31m") == "a?b??31m");
  CHECK(LogSafePrefix(std::string(100, 'x')) == std::string(16, 'x') + "...");
  CHECK(LogSafePrefix("") == "");
  for (int i = 0; i < static_cast<int>(NotifyError::kBadTime) + 1; ++i) {
    CHECK_FALSE(Describe(static_cast<NotifyError>(i)).empty());
  }
}

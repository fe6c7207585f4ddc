#include "names/userid.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using tessera::names::IsValidUserid;

TEST_CASE("valid userids") {
  const std::vector<std::string> ok = {std::string(60, 'a') + "@pbs",
                                       "alice@pbs",
                                       "a@pam",
                                       "first.last@example.org",
                                       "a@b@pbs",
                                       "ü@pbs",
                                       "x@A_b-c.d",
                                       "root@pam"};
  for (const auto& userid : ok) {
    INFO(userid);
    CHECK(IsValidUserid(userid));
  }
}

TEST_CASE("invalid userids") {
  std::string long_name = std::string(61, 'a') + "@pbs";  // 65 bytes
  for (const std::string& bad :
       {std::string("alice"), std::string("@pbs"), std::string("a@p"), std::string("a b@pbs"),
        std::string("a:b@pbs"), std::string("a/b@pbs"), std::string("a\tb@pbs"),
        std::string("a\x01@pbs"), std::string("a@.pbs"), std::string("a@-pbs"),
        std::string("a@pb s"), std::string("a@") + std::string(33, 'r'), long_name,
        std::string("alice@pbs\n")}) {
    INFO(bad);
    CHECK_FALSE(IsValidUserid(bad));
  }
}

TEST_CASE("a userid is well-formed UTF-8 without control characters") {
  for (const std::string& bad :
       {std::string("a\xff@pbs"), std::string("\xc3@pbs"),  // invalid, truncated
        std::string("\xc0\xaf@pbs"),                        // overlong '/'
        std::string("\xed\xa0\x80@pbs"),                    // surrogate
        std::string("\xf4\x90\x80\x80@pbs"),                // above U+10FFFF
        std::string("a\xc2\x85@pbs"),                       // C1 control (NEL)
        std::string("a\x7f@pbs")}) {
    INFO(bad);
    CHECK_FALSE(IsValidUserid(bad));
  }
  CHECK(IsValidUserid("a%;b@pbs"));  // '%' and ';' are allowed in the name
  CHECK(IsValidUserid("\xe2\x82\xac\xf0\x9f\x94\x91@pbs"));
}

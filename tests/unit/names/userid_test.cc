#include "names/userid.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using tessera::names::IsValidUserid;

TEST_CASE("valid userids") {
  const std::vector<std::string> ok = {std::string(60, 'a') + "@pbs", "alice@pbs", "a@pam",
                                       "first.last@example.org", "a@b@pbs", "ü@pbs", "x@A_b-c.d",
                                       "root@pam"};
  for (const auto& userid : ok) {
    INFO(userid);
    CHECK(IsValidUserid(userid));
  }
}

TEST_CASE("invalid userids") {
  std::string long_name = std::string(61, 'a') + "@pbs";  // 65 bytes
  for (const std::string& bad : {std::string("alice"), std::string("@pbs"), std::string("a@p"),
                                 std::string("a b@pbs"), std::string("a:b@pbs"), std::string("a/b@pbs"),
                                 std::string("a\tb@pbs"), std::string("a\x01@pbs"), std::string("a@.pbs"),
                                 std::string("a@-pbs"), std::string("a@pb s"), std::string("a@") + std::string(33, 'r'),
                                 long_name, std::string("alice@pbs\n")}) {
    INFO(bad);
    CHECK_FALSE(IsValidUserid(bad));
  }
}

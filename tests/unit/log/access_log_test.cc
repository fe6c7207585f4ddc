// The access log's line: logfmt after `access:`, one line whatever the values hold.
#include "log/access_log.h"

#include <catch2/catch.hpp>

using namespace tessera;
using namespace std::chrono_literals;

namespace {

log::AccessEntry Entry() {
  log::AccessEntry e;
  e.time = std::chrono::system_clock::time_point(1'764'669'600'123ms);  // 2025-12-02T10:00:00.123Z
  e.method = "GET";
  e.route = "/backup/{repo}/data/{name}";
  e.status = 206;
  e.account = "alice@pbs";
  e.token = "laptop";
  e.bytes_in = 0;
  e.bytes_out = 4096;
  e.duration = 1250us;
  return e;
}

}  // namespace

TEST_CASE("an access line names the request in logfmt") {
  CHECK(log::FormatAccess(Entry()) ==
        "access: time=2025-12-02T10:00:00.123Z method=GET route=/backup/{repo}/data/{name} "
        "status=206 account=alice@pbs token=laptop in=0 out=4096 ms=1.2");
}

TEST_CASE("an access line leaves out who when nobody authenticated, and quotes an empty route") {
  log::AccessEntry e = Entry();
  e.account = "";
  e.token = "";
  e.route = "";
  e.status = 404;
  CHECK(log::FormatAccess(e) ==
        "access: time=2025-12-02T10:00:00.123Z method=GET route=\"\" status=404 in=0 out=4096 "
        "ms=1.2");
}

TEST_CASE("odd bytes in a value can neither add a field nor a line") {
  struct Case {
    std::string account, written;
  };
  const Case cases[] = {
      {"a b@pbs", "account=\"a b@pbs\""},
      {"x=1@pbs", "account=\"x=1@pbs\""},
      {"q\"uote@pbs", "account=\"q\\\"uote@pbs\""},
      {"back\\slash@pbs", "account=\"back\\\\slash@pbs\""},
      {"line\nstatus=200@pbs", "account=\"line\\x0astatus=200@pbs\""},
      {"tab\t\x7f@pbs", "account=\"tab\\x09\\x7f@pbs\""},
      {"j\xc3\xbcrgen@pbs", "account=\"j\xc3\xbcrgen@pbs\""},
  };
  for (const Case& c : cases) {
    INFO(c.written);
    log::AccessEntry e = Entry();
    e.account = c.account;
    std::string line = log::FormatAccess(e);
    CHECK(line.find(" " + c.written + " token=laptop ") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
  }
}

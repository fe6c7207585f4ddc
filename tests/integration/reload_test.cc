// SIGHUP reloads the worker's configuration without dropping a request: under a steady load of
// token and ticket requests, both signing keys are rotated (the new ones sign, the old ones are
// kept as verify keys), and not one request fails; tokens and tickets of either key then work.
// A reload that cannot be made (a key file missing, a key only a restart can change) keeps the
// running configuration and says why.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

// Replaces the line `key = ...` of the config file at `path` (or adds it).
void SetConfig(const std::string& path, const std::string& key, const std::string& value) {
  std::string text = ReadFile(path);
  std::regex line("(^|\n)" + key + " = [^\n]*");
  if (std::regex_search(text, line)) {
    text = std::regex_replace(text, line, "$1" + key + " = " + value);
  } else {
    text += key + " = " + value + "\n";
  }
  WriteFile(path, text);
}

// A new signing key in `dir`/`name`.k4.secret, and the public half of the one at `old`, kept as
// `dir`/`name`-old.k4.public. Returns their paths.
std::pair<std::string, std::string> Rotate(const std::string& dir, const std::string& name,
                                           const std::string& old) {
  std::string next = dir + "/" + name + "-2.k4.secret";
  std::string kept = dir + "/" + name + "-1.k4.public";
  REQUIRE(Run({TESSERA_ADMIN_BIN, "keygen", "--out", next}).status == 0);
  RunResult pub = Run({TESSERA_ADMIN_BIN, "keygen", "--public-of", old});
  REQUIRE(pub.status == 0);
  REQUIRE(pub.output.starts_with("k4.public."));
  WriteFile(kept, pub.output);
  return {next, kept};
}

// Waits until the worker's log holds `text` `count` times.
bool LogShows(Worker& worker, const std::string& text, int count = 1) {
  return Eventually(
      [&] {
        std::string log = worker.Log();
        int seen = 0;
        for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
          ++seen;
        return seen >= count;
      },
      10s);
}

}  // namespace

TEST_CASE("keys rotate on SIGHUP under load, and not one request fails", "[reload]") {
  BackupStack b;
  Worker& worker = b.stack->worker();
  const std::string conf = worker.config_path();
  std::string old_token = b.Mint("alice@pbs", {"--name", "before", "--read", "--write"});
  CheckedClient setup = b.Client(old_token);
  REQUIRE(setup.Post("/backup/home/?create=true", "", "application/octet-stream")->status == 200);
  REQUIRE(setup.Post("/backup/home/config", "cfg", "application/octet-stream")->status == 200);
  CheckedClient people = b.stack->Client();
  PasswordLogin old_ticket = LogIn(people, "alice@pbs", "pw");
  REQUIRE(old_ticket.status == 200);
  httplib::Headers old_cookie = {{"Cookie", "PBSAuthCookie=" + FormEncode(old_ticket.ticket)}};

  // Load: each thread alternates a token read and a ticket whoami, counting what is not 200.
  std::atomic<bool> stop{false};
  std::atomic<int> done{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      CheckedClient token_client = b.Client(old_token);
      CheckedClient ticket_client = b.stack->Client();
      while (!stop) {
        // get(), never -> or Catch2's macros: they are not thread-safe.
        auto a = token_client.Get("/backup/home/config");
        auto w = ticket_client.Get("/api2/json/access/whoami", old_cookie);
        if (a.get() == nullptr || a.get()->status != 200 || w.get() == nullptr ||
            w.get()->status != 200)
          ++failed;
        done += 2;
      }
    });
  }
  // The load is running: a few requests from each thread.
  REQUIRE(Eventually([&] { return done.load() >= 40; }, 10s));
  int before = done;

  auto [token_key, token_old] = Rotate(b.keys, "token", b.keys + "/token.k4.secret");
  auto [ticket_key, ticket_old] =
      Rotate(b.stack->dir(), "ticket", b.stack->dir() + "/ticket.k4.secret");
  SetConfig(conf, "token_key", token_key);
  SetConfig(conf, "token_verify_keys", token_old);
  SetConfig(conf, "ticket_key", ticket_key);
  SetConfig(conf, "ticket_verify_keys", ticket_old);
  worker.process().Signal(SIGHUP);
  REQUIRE(LogShows(worker, "reloaded "));
  // As many again after the reload, answered with the new generation.
  int at_reload = done;
  CHECK(Eventually([&] { return done.load() >= at_reload + 40; }, 10s));
  int during = done;
  stop = true;
  for (auto& t : load) t.join();
  CHECK(failed == 0);
  CHECK(before > 0);
  CHECK(during > before);  // the load went on through the reload

  // The new token key signs (the admin tool mints with it too), and both keys' tokens work.
  SetConfig(b.admin_conf, "token_key", token_key);
  std::string new_token = b.Mint("alice@pbs", {"--name", "after", "--read"});
  CHECK(b.Client(new_token).Get("/backup/home/config")->status == 200);
  CHECK(b.Client(old_token).Get("/backup/home/config")->status == 200);
  // A ticket of the old key still works; a new login is signed with the new key and works.
  CHECK(people.Get("/api2/json/access/whoami", old_cookie)->status == 200);
  PasswordLogin new_ticket = LogIn(people, "alice@pbs", "pw");
  REQUIRE(new_ticket.status == 200);
  CHECK(people
            .Get("/api2/json/access/whoami",
                 {{"Cookie", "PBSAuthCookie=" + FormEncode(new_ticket.ticket)}})
            ->status == 200);
  CHECK(new_ticket.ticket.substr(new_ticket.ticket.rfind("::")) !=
        old_ticket.ticket.substr(old_ticket.ticket.rfind("::")));

  // Dropping the old token key from the verify keys ends its tokens, at the next reload.
  SetConfig(conf, "token_verify_keys", "");
  worker.process().Signal(SIGHUP);
  REQUIRE(LogShows(worker, "reloaded ", 2));
  CHECK(b.Client(old_token).Get("/backup/home/config")->status == 401);
  CHECK(b.Client(new_token).Get("/backup/home/config")->status == 200);
}

TEST_CASE("a reload that cannot be made keeps the running configuration", "[reload]") {
  BackupStack b;
  Worker& worker = b.stack->worker();
  const std::string conf = worker.config_path();
  std::string token = b.Mint("alice@pbs", {"--read"});
  REQUIRE(b.Client(token).Get("/backup/home/config")->status == 404);  // honoured; no repo yet
  std::string good = ReadFile(conf);

  // The failed reload also asks for log_level = error, which must not apply either.
  SetConfig(conf, "token_key", b.keys + "/missing.k4.secret");
  SetConfig(conf, "log_level", "error");
  worker.process().Signal(SIGHUP);
  REQUIRE(LogShows(worker, "still serving the previous configuration"));
  CHECK(worker.Log().find("missing.k4.secret") != std::string::npos);
  CHECK(b.Client(token).Get("/backup/home/config")->status == 404);

  WriteFile(conf, good);
  SetConfig(conf, "threads", "9");
  worker.process().Signal(SIGHUP);
  REQUIRE(LogShows(worker, "threads changed, which needs a restart"));
  CHECK(b.Client(token).Get("/backup/home/config")->status == 404);
  // Still at the running level (info): this reload's info line was written before its error.
  CHECK(LogShows(worker, "SIGHUP: reloading", 2));

  WriteFile(conf, good + "no such key = 1\n");
  worker.process().Signal(SIGHUP);
  REQUIRE(LogShows(worker, "still serving the previous configuration", 3));
  CHECK(b.Client(token).Get("/backup/home/config")->status == 404);
  CHECK(worker.process().Running());
}

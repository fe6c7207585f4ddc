#define CATCH_CONFIG_RUNNER
#include <signal.h>
#include <sodium.h>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}

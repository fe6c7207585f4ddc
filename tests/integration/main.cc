#define CATCH_CONFIG_RUNNER
#include <signal.h>
#include <sodium.h>

#include <catch2/catch.hpp>

#include "backup/s3_init.h"

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (!tessera::backup::InitS3Transport()) return 1;  // the S3 tests build clients of their own
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}

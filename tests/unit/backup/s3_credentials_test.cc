#include "backup/s3_credentials.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace tessera::backup;
namespace fs = std::filesystem;

TEST_CASE("an S3 credentials file gives its key pair") {
  auto c = ParseS3Credentials(
      "# the backup bucket's user\n"
      "aws_access_key_id = AKIAEXAMPLE\n"
      "\n"
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\r\n");
  REQUIRE(c);
  CHECK(c->access_key() == "AKIAEXAMPLE");
  CHECK(c->secret() == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
}

TEST_CASE("malformed S3 credentials are refused without showing a value") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"", "needs both"},
      {"aws_access_key_id = AKIA\n", "needs both"},
      {"aws_secret_access_key = s3cr3t\n", "needs both"},
      {"aws_access_key_id AKIA\n", "line 1: expected"},
      {"aws_access_key_id = AKIA\naws_access_key_id = AKIB\n",
       "line 2: aws_access_key_id set twice"},
      {"aws_access_key_id = AK-IA\naws_secret_access_key = s3cr3t\n", "letters and digits"},
      {"aws_access_key_id = AKIA\naws_secret_access_key = s3 cr3t\n", "printable"},
      {"aws_access_key_id = AKIA\naws_session_token = s3cr3t\n", "line 2: unknown key"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = ParseS3Credentials(c.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().find(c.fragment) != std::string::npos);
    CHECK(r.error().find("s3cr3t") == std::string::npos);
    CHECK(r.error().find("s3 cr3t") == std::string::npos);
  }
}

TEST_CASE("an S3 credentials file readable by others is refused") {
  char tmpl[] = "/tmp/tessera-s3cred-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/s3.credentials";
  std::ofstream(path) << "aws_access_key_id = AKIA\naws_secret_access_key = s3cr3t\n";
  chmod(path.c_str(), 0640);
  auto open = LoadS3Credentials(path);
  REQUIRE_FALSE(open);
  CHECK(open.error().find("accessible by group or others") != std::string::npos);
  chmod(path.c_str(), 0600);
  auto ok = LoadS3Credentials(path);
  REQUIRE(ok);
  CHECK(ok->secret() == "s3cr3t");
  fs::create_symlink(path, path + ".link");
  CHECK_FALSE(LoadS3Credentials(path + ".link"));
  CHECK(LoadS3Credentials(std::string(tmpl) + "/missing").error().find("cannot open") !=
        std::string::npos);
  fs::remove_all(tmpl);
}

TEST_CASE("S3 credentials come from the environment when no file is set") {
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  CHECK(S3CredentialsFromEnvironment().error().find("AWS_ACCESS_KEY_ID") != std::string::npos);
  setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env/secret+", 1);
  auto c = S3CredentialsFromEnvironment();
  REQUIRE(c);
  CHECK(c->access_key() == "AKIAENV");
  CHECK(c->secret() == "env/secret+");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

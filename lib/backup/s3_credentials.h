// The key pair the S3 backend signs with (SigV4), from a file only the worker may read or from
// the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). The secret is held in a string that
// is wiped when the object goes, and is never logged or put in a message.
//
// The file holds the two lines of an AWS credentials file, `#` comments and blank lines allowed:
//
//   aws_access_key_id = AKIAEXAMPLE
//   aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//
// It must be a regular file (not a symbolic link) without any permission for group or others.
// Thread-safe (no shared state).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace tessera::backup {

class S3Credentials {
 public:
  S3Credentials(std::string access_key, std::string secret)
      : access_key_(std::move(access_key)), secret_(std::move(secret)) {}
  ~S3Credentials();
  S3Credentials(S3Credentials&& other) noexcept;
  S3Credentials& operator=(S3Credentials&&) = delete;
  S3Credentials(const S3Credentials&) = delete;
  S3Credentials& operator=(const S3Credentials&) = delete;

  const std::string& access_key() const { return access_key_; }
  const std::string& secret() const { return secret_; }

 private:
  std::string access_key_, secret_;
};

// The file's key pair, or a message naming the file and what is wrong (never its content).
std::expected<S3Credentials, std::string> LoadS3Credentials(const std::filesystem::path& path);

// The pair in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a message saying what is missing.
std::expected<S3Credentials, std::string> S3CredentialsFromEnvironment();

// Parses the file format above; for the loader and tests. The message never holds a value.
std::expected<S3Credentials, std::string> ParseS3Credentials(std::string_view text);

}  // namespace tessera::backup

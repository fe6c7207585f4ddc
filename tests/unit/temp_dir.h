// A temporary directory for a unit test, removed with everything in it when the test ends.
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace tessera::testing {

struct TempDir {
  std::filesystem::path path;

  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "tessera-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to the file `name` in the directory with permissions `mode`; returns its path.
  std::filesystem::path Write(const char* name, const std::string& text, mode_t mode) {
    std::filesystem::path file = path / name;
    std::ofstream(file) << text;
    REQUIRE(chmod(file.c_str(), mode) == 0);
    return file;
  }
};

}  // namespace tessera::testing

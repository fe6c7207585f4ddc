// Loads the official PASETO/PASERK test vectors (public test data from the paseto-standard
// project, ISC licensed, copied into tests/vectors/paseto/) at test time.
#pragma once

#include <sodium.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace tessera::testing {

inline nlohmann::json LoadVectors(const std::string& relative) {
  std::string path = std::string(TESSERA_SOURCE_DIR) + "/tests/vectors/paseto/" + relative;
  std::ifstream in(path);
  INFO("vector file " << path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// The vector list of a file, checked to hold exactly `count` vectors: a loop over an empty or
// truncated file must fail, not pass having checked nothing.
inline nlohmann::json LoadTests(const std::string& relative, std::size_t count) {
  nlohmann::json tests = LoadVectors(relative)["tests"];
  INFO("vector file " << relative);
  REQUIRE(tests.is_array());
  REQUIRE(tests.size() == count);
  return tests;
}

inline std::vector<std::uint8_t> Hex(const std::string& hex) {
  std::vector<std::uint8_t> out(hex.size() / 2);
  std::size_t len = 0;
  REQUIRE(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) ==
          0);
  out.resize(len);
  return out;
}

inline std::string Text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : "";
}

}  // namespace tessera::testing

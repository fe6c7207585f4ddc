#include "http/request.h"

#include <catch2/catch.hpp>

using namespace tessera;
using http::BodyError;

namespace {
// A body delivered in chunks of `step` bytes, failing after `fail_after` bytes if set.
class ChunkedBody final : public http::BodyReader {
 public:
  ChunkedBody(std::string data, std::size_t step,
              std::optional<std::size_t> fail_after = std::nullopt)
      : data_(std::move(data)), step_(step), fail_after_(fail_after) {}
  std::ptrdiff_t Read(char* buffer, std::size_t size) override {
    if (fail_after_ && pos_ >= *fail_after_) return -1;
    std::size_t n = std::min({size, step_, data_.size() - pos_});
    data_.copy(buffer, n, pos_);
    pos_ += n;
    return static_cast<std::ptrdiff_t>(n);
  }

 private:
  std::string data_;
  std::size_t step_, pos_ = 0;
  std::optional<std::size_t> fail_after_;
};

struct Streamed {
  std::expected<std::uint64_t, BodyError> result;
  std::string seen;
};

Streamed Stream(std::optional<std::uint64_t> content_length, http::BodyReader* body,
                std::uint64_t cap, std::size_t refuse_after = SIZE_MAX) {
  http::Request r;
  r.content_length = content_length;
  r.body = body;
  Streamed out;
  out.result = http::StreamBody(
      r, cap,
      [&](std::span<const char> chunk) {
        if (out.seen.size() + chunk.size() > refuse_after) return false;
        out.seen.append(chunk.data(), chunk.size());
        return true;
      },
      4);
  return out;
}
}  // namespace

TEST_CASE("a body arrives whole, chunk by chunk") {
  ChunkedBody body("hello, world", 5);
  auto s = Stream(12, &body, 100);
  REQUIRE(s.result.has_value());
  CHECK(*s.result == 12);
  CHECK(s.seen == "hello, world");

  ChunkedBody unsized("no length", 3);
  auto u = Stream(std::nullopt, &unsized, 100);
  CHECK(u.result.value() == 9);
  CHECK(Stream(0, nullptr, 100).result.value() == 0);
  CHECK(Stream(std::nullopt, nullptr, 100).result.value() == 0);
}

TEST_CASE("each way a body can go wrong has its own error") {
  ChunkedBody any("0123456789", 10);
  CHECK(Stream(11, &any, 10).result.error() == BodyError::kTooLarge);  // before reading
  CHECK(Stream(11, &any, 10).seen.empty());

  ChunkedBody unsized("0123456789", 10);
  CHECK(Stream(std::nullopt, &unsized, 9).result.error() == BodyError::kTooLarge);

  ChunkedBody longer("0123456789", 10);
  CHECK(Stream(5, &longer, 100).result.error() == BodyError::kLonger);
  ChunkedBody lying("0123456789", 10);
  CHECK(Stream(5, &lying, 6).result.error() ==
        BodyError::kTooLarge);  // the cap holds whatever it said

  ChunkedBody shorter("01234", 10);
  CHECK(Stream(10, &shorter, 100).result.error() == BodyError::kShorter);
  CHECK(Stream(3, nullptr, 100).result.error() == BodyError::kShorter);

  ChunkedBody failing("0123456789", 2, 4);
  auto f = Stream(10, &failing, 100);
  CHECK(f.result.error() == BodyError::kInterrupted);
  CHECK(f.seen == "0123");

  ChunkedBody refused("0123456789", 4);
  auto r = Stream(10, &refused, 100, 5);
  CHECK(r.result.error() == BodyError::kSinkFailed);
  CHECK(r.seen == "0123");
}

TEST_CASE("ReadBody keeps the body in memory, within its cap") {
  ChunkedBody body("a=1&b=2", 3);
  http::Request r;
  r.content_length = 7;
  r.body = &body;
  CHECK(http::ReadBody(r, 7).value() == "a=1&b=2");
  ChunkedBody big("a=1&b=2", 3);
  r.body = &big;
  CHECK(http::ReadBody(r, 6).error() == BodyError::kTooLarge);
}

TEST_CASE("a body read in small pieces reaches the sink in full chunks") {
  ChunkedBody body(std::string(1000, 'x'), 3);
  http::Request r;
  r.content_length = 1000;
  r.body = &body;
  std::vector<std::size_t> sizes;
  auto result = http::StreamBody(
      r, 1000,
      [&](std::span<const char> chunk) {
        sizes.push_back(chunk.size());
        return true;
      },
      256);
  REQUIRE(result.has_value());
  CHECK(sizes == std::vector<std::size_t>{256, 256, 256, 232});
}

#include "http/request.h"

#include <algorithm>
#include <array>
#include <vector>

namespace tessera::http {
namespace {
constexpr std::array<std::pair<std::string_view, Method>, 7> kMethods = {{
    {"GET", Method::kGet},
    {"HEAD", Method::kHead},
    {"POST", Method::kPost},
    {"PUT", Method::kPut},
    {"DELETE", Method::kDelete},
    {"OPTIONS", Method::kOptions},
    {"PATCH", Method::kPatch},
}};
}  // namespace

Method ParseMethod(std::string_view name) {
  for (const auto& [text, method] : kMethods) {
    if (text == name) return method;
  }
  return Method::kOther;
}

std::string_view MethodName(Method method) {
  for (const auto& [text, m] : kMethods) {
    if (m == method) return text;
  }
  return "OTHER";
}

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

std::expected<std::uint64_t, BodyError> StreamBody(Request& request, std::uint64_t cap,
                                                   const BodySink& sink, std::size_t chunk_bytes) {
  const std::optional<std::uint64_t>& length = request.content_length;
  if (length && *length > cap) return std::unexpected(BodyError::kTooLarge);
  std::uint64_t received = 0;
  if (request.body != nullptr) {
    // The reader hands out what it has (a FastCGI record's worth, often 8 KiB); the sink gets
    // full chunks, so a stored object costs one write and one hash update per chunk, not per
    // record.
    std::vector<char> buffer(std::max<std::size_t>(chunk_bytes, 1));
    bool ended = false;
    while (!ended) {
      std::size_t filled = 0;
      while (filled < buffer.size()) {
        std::ptrdiff_t n = request.body->Read(buffer.data() + filled, buffer.size() - filled);
        if (n < 0) return std::unexpected(BodyError::kInterrupted);
        if (n == 0) {
          ended = true;
          break;
        }
        filled += static_cast<std::size_t>(n);
        received += static_cast<std::uint64_t>(n);
        if (received > cap) return std::unexpected(BodyError::kTooLarge);
        if (length && received > *length) return std::unexpected(BodyError::kLonger);
      }
      if (filled > 0 && !sink(std::span<const char>(buffer.data(), filled))) {
        return std::unexpected(BodyError::kSinkFailed);
      }
    }
  }
  if (length && received != *length) return std::unexpected(BodyError::kShorter);
  return received;
}

std::expected<std::string, BodyError> ReadBody(Request& request, std::size_t cap) {
  std::string body;
  if (request.content_length)
    body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*request.content_length, cap)));
  auto read = StreamBody(request, cap, [&body](std::span<const char> chunk) {
    body.append(chunk.data(), chunk.size());
    return true;
  });
  if (!read) return std::unexpected(read.error());
  return body;
}

std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  std::string out;
  for (char c : type) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace tessera::http

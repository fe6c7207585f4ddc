#include "http/request.h"

#include <algorithm>
#include <array>

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

std::expected<std::string, BodyError> ReadBody(Request& request, std::size_t cap) {
  std::string body;
  if (request.content_length) {
    if (*request.content_length > cap) return std::unexpected(BodyError::kTooLarge);
    body.reserve(static_cast<std::size_t>(*request.content_length));
  }
  if (request.body == nullptr) {
    if (request.content_length.value_or(0) != 0) return std::unexpected(BodyError::kTruncated);
    return body;
  }
  char buffer[16 * 1024];
  for (;;) {
    std::ptrdiff_t n = request.body->Read(buffer, sizeof buffer);
    if (n < 0) return std::unexpected(BodyError::kTruncated);
    if (n == 0) break;
    if (body.size() + static_cast<std::size_t>(n) > cap) {
      return std::unexpected(BodyError::kTooLarge);
    }
    body.append(buffer, static_cast<std::size_t>(n));
  }
  if (request.content_length && body.size() != *request.content_length) {
    return std::unexpected(BodyError::kTruncated);
  }
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

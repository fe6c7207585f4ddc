#include "http/params.h"

#include <sodium.h>

#include <algorithm>

#include "http/percent.h"
#include "json/strict_json.h"
#include "names/utf8.h"

namespace tessera::http {
namespace {

Problem BadRequest(std::string message) { return Problem{400, std::move(message)}; }

// Parameters may be passwords: every copy this file makes of a value is wiped when it is done
// with, including the inline buffer of a short string (which a move would leave behind).
void Wipe(std::string& text) { sodium_memzero(text.data(), text.size()); }

// Wipes every string (values and keys' values; keys are names, not secrets) of a parsed document.
void WipeStrings(nlohmann::json& doc) {
  if (doc.is_string()) {
    Wipe(doc.get_ref<std::string&>());
  } else if (doc.is_structured()) {
    for (auto& child : doc) WipeStrings(child);
  }
}

// Shows a parameter name in a message without letting it carry control characters or run long;
// non-ASCII bytes become '?' too, so a cut never splits a UTF-8 sequence (the JSON envelope
// cannot carry malformed UTF-8).
std::string Printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
  }
  return out;
}

// Every parameter passes here, from a form or JSON body alike: names and values are checked as
// text (well-formed UTF-8, no NUL) before any handler sees them, so no malformed text can reach
// SQL or a log line.
// `value` is copied into `params` and wiped, whatever the answer.
std::expected<void, Problem> Insert(Params& params, std::string key, std::string& value) {
  struct WipeOnExit {
    std::string& text;
    ~WipeOnExit() { Wipe(text); }
  } wipe{value};
  if (key.empty()) return std::unexpected(BadRequest("empty parameter name"));
  if (key.size() > kMaxParamKeyBytes) return std::unexpected(BadRequest("parameter name too long"));
  if (!names::IsValidUtf8(key) || names::HasControlCharacter(key)) {
    return std::unexpected(BadRequest("malformed parameter name"));
  }
  if (params.size() >= kMaxParams) return std::unexpected(BadRequest("too many parameters"));
  std::string shown = Printable(key);
  if (!names::IsValidUtf8(value)) {
    return std::unexpected(BadRequest("parameter '" + shown + "' is not valid UTF-8"));
  }
  if (value.find('\0') != std::string::npos) {
    return std::unexpected(BadRequest("parameter '" + shown + "' contains NUL"));
  }
  if (!params.emplace(std::move(key), value).second) {
    return std::unexpected(BadRequest("parameter '" + shown + "' given more than once"));
  }
  return {};
}

}  // namespace

std::expected<Params, Problem> ParseForm(std::string_view text) {
  Params params;
  while (!text.empty()) {
    std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
    std::size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key) return std::unexpected(BadRequest("malformed form encoding in a parameter name"));
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    auto value = PercentDecode(raw_value, true);
    if (!value) {
      return std::unexpected(
          BadRequest("malformed form encoding in parameter '" + Printable(*key) + "'"));
    }
    if (auto ok = Insert(params, std::move(*key), *value); !ok) {
      return std::unexpected(ok.error());
    }
  }
  return params;
}

std::expected<Params, Problem> ParseJsonParams(std::string_view text) {
  auto parsed = json::ParseStrict(text, 4);
  if (!parsed) {
    switch (parsed.error()) {
      case json::JsonError::kDuplicateKey:
        return std::unexpected(BadRequest("JSON body repeats a key"));
      case json::JsonError::kTooDeep:
        return std::unexpected(BadRequest("JSON body nests too deeply"));
      case json::JsonError::kSyntax:
        return std::unexpected(BadRequest("malformed JSON body"));
    }
  }
  struct WipeOnExit {
    nlohmann::json& doc;
    ~WipeOnExit() { WipeStrings(doc); }
  } wipe{*parsed};
  if (!parsed->is_object()) return std::unexpected(BadRequest("JSON body must be an object"));
  Params params;
  for (auto& [key, value] : parsed->items()) {
    std::string text_value;
    if (value.is_string()) {
      text_value = value.get<std::string>();
    } else if (value.is_boolean()) {
      text_value = value.get<bool>() ? "true" : "false";
    } else if (value.is_number()) {
      text_value = value.dump();
    } else {
      return std::unexpected(
          BadRequest("parameter '" + Printable(key) + "' must be a string, number or boolean"));
    }
    if (auto ok = Insert(params, key, text_value); !ok) return std::unexpected(ok.error());
  }
  return params;
}

std::expected<Params, Problem> ReadBodyParams(Request& request, std::size_t cap) {
  std::string type = MediaType(request.content_type);
  bool no_body = request.content_length.value_or(0) == 0;
  if (type.empty() && no_body) return Params{};
  if (type != "application/x-www-form-urlencoded" && type != "application/json") {
    return std::unexpected(
        Problem{415, "Content-Type must be application/x-www-form-urlencoded or application/json"});
  }
  auto body = ReadBody(request, cap);
  if (!body) {
    if (body.error() == BodyError::kTooLarge) {
      return std::unexpected(Problem{413, "request body too large"});
    }
    return std::unexpected(BadRequest("request body incomplete"));
  }
  auto params = type == "application/json" ? ParseJsonParams(*body) : ParseForm(*body);
  Wipe(*body);
  return params;
}

Problem UnknownParameter(std::string_view name) {
  return BadRequest("unknown parameter '" + Printable(name) + "'");
}

std::expected<void, Problem> RequireKnownParams(const Params& params,
                                                std::span<const std::string_view> known) {
  for (const auto& [name, value] : params) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      return std::unexpected(UnknownParameter(name));
  }
  return {};
}

std::optional<bool> ParseBool(std::string_view text) {
  std::string lower;
  for (char c : text.substr(0, 8)) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (text.size() > 8) return std::nullopt;
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

}  // namespace tessera::http

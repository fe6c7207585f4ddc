#include "json/strict_json.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tessera::json {
namespace {

using Json = nlohmann::json;

// A SAX handler that builds the document with nlohmann's own DOM builder and watches the event
// stream for what plain parsing lets through: repeated keys (checked per object when it closes,
// by sorting its key list; short keys live in the strings' inline buffers) and nesting depth.
class StrictSax {
 public:
  StrictSax(Json& result, int max_depth)
      : dom_(result, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const std::string& s) {
    return dom_.number_float(v, s);
  }
  bool string(std::string& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (++depth_ > max_depth_) return Fail(JsonError::kTooDeep);
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(std::string& k) {
    keys_.back().push_back(k);
    return dom_.key(k);
  }
  bool end_object() {
    auto& list = keys_.back();
    std::sort(list.begin(), list.end());
    if (std::adjacent_find(list.begin(), list.end()) != list.end())
      return Fail(JsonError::kDuplicateKey);
    keys_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (++depth_ > max_depth_) return Fail(JsonError::kTooDeep);
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return Fail(JsonError::kSyntax);
  }

  JsonError error() const { return error_; }

 private:
  bool Fail(JsonError e) {
    error_ = e;
    return false;
  }
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::vector<std::vector<std::string>> keys_;
  int depth_ = 0;
  int max_depth_;
  JsonError error_ = JsonError::kSyntax;
};

}  // namespace

std::expected<nlohmann::json, JsonError> ParseStrict(std::string_view text, int max_depth) {
  Json result;
  StrictSax sax(result, max_depth);
  if (!Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                       /*strict=*/true)) {
    return std::unexpected(sax.error());
  }
  return result;
}

}  // namespace tessera::json

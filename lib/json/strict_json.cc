#include "json/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace tessera::json {

std::expected<nlohmann::json, JsonError> ParseStrict(std::string_view text, int max_depth) {
  // The callback sees every key as it is read; a stack of key sets, one per open object, finds
  // repeats. Depth is checked here too so a deep document is refused early.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  bool too_deep = false;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case E::array_start:
        if (depth >= max_depth) too_deep = true;
        break;
      case E::key:
        if (!keys.empty() && !keys.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
        break;
      case E::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      default:
        break;
    }
    return !(duplicate || too_deep);
  };
  nlohmann::json result =
      nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (duplicate) return std::unexpected(JsonError::kDuplicateKey);
  if (too_deep) return std::unexpected(JsonError::kTooDeep);
  if (result.is_discarded()) return std::unexpected(JsonError::kSyntax);
  return result;
}

}  // namespace tessera::json

// Request parameters from a query string or a body (application/x-www-form-urlencoded or
// application/json), flattened to text values.
//
// Form encoding: `key=value` pairs joined by '&', '+' is a space, %XX escapes strict (WHATWG URL
// standard, "application/x-www-form-urlencoded parsing"). JSON: one object whose values are
// strings, booleans or numbers; booleans become "true"/"false", numbers their JSON text. In both
// a repeated key, an empty key, more than kMaxParams parameters or an over-long key is a 400 whose
// message names the problem (never the value: it may be a password). Every name and value is
// text: well-formed UTF-8 without NUL (names also without control characters), else a 400 that
// names the parameter — so malformed text never reaches SQL.
#pragma once

#include <cstddef>
#include <expected>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "http/request.h"

namespace tessera::http {

using Params = std::map<std::string, std::string, std::less<>>;

inline constexpr std::size_t kMaxParams = 64;
inline constexpr std::size_t kMaxParamKeyBytes = 128;

// What went wrong, as the status and message of the error answer.
struct Problem {
  int status;
  std::string message;
};

// Parses form encoding. Fails with 400 naming the first bad parameter.
std::expected<Params, Problem> ParseForm(std::string_view text);
// Parses a JSON object of scalar values. Fails with 400 naming the problem or the field.
std::expected<Params, Problem> ParseJsonParams(std::string_view text);
// Reads the body (at most `cap` bytes: else 413) and parses it by Content-Type: form or JSON,
// anything else 415. An empty body with no Content-Type gives no parameters.
std::expected<Params, Problem> ReadBodyParams(Request& request, std::size_t cap);

// The 400 for a parameter a route does not take; the message names it printably (at most 64
// bytes, control and non-ASCII bytes as '?').
Problem UnknownParameter(std::string_view name);
// UnknownParameter for the first parameter (in name order) that is not in `known`.
std::expected<void, Problem> RequireKnownParams(const Params& params,
                                                std::span<const std::string_view> known);

// Reads a boolean the way Proxmox does: 1/true/yes/on and 0/false/no/off, case-insensitive.
// Returns nullopt for anything else.
std::optional<bool> ParseBool(std::string_view text);

}  // namespace tessera::http

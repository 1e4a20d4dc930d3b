// json_body — reads a request body as a JSON object and its fields with the
// contract's validation messages ("title: must be a string of 1 to 200
// characters"). Parsing is Boost.JSON's; nothing here is hand-parsed.
#pragma once

#include "switchboard/http.hpp"

#include "src/common/json_numbers.hpp"
#include "src/http/router.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::http {

/// The body as an object, or the error message to answer 400 with.
struct parsed_body {
  boost::json::object object;
  std::string error; // empty when parsing succeeded
};

parsed_body parse_json_object(const http_request& request);

/// The body as an object, or nullopt after answering 400.
std::optional<boost::json::object> body_or_400(route_call& call);

/// Collects field errors; the first one is reported.
class field_reader {
public:
  explicit field_reader(const boost::json::object& object) : object_(object) {}

  /// A string of `min`..`max` characters (Unicode code points).
  std::optional<std::string> string(const char* name, std::size_t min,
                                    std::size_t max, bool required);
  std::optional<bool> boolean(const char* name, bool required);
  std::optional<int64_t> id(const char* name, bool required);
  /// An integer from `min` to `max` (a JSON number without a fraction).
  std::optional<int64_t> integer(const char* name, int64_t min, int64_t max,
                                 bool required);

  bool ok() const { return error_.empty(); }

  /// Answers 400 with the first field error, if any; true if it did.
  bool rejected(route_call& call) const;
  const std::string& error() const { return error_; }

private:
  void fail(const char* name, const std::string& what);

  const boost::json::object& object_;
  std::string error_;
};

} // namespace switchboard::http

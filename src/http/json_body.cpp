// json_body — see json_body.hpp. Boost.JSON rejects invalid UTF-8 in
// strings by default; nesting is capped so a deeply nested body cannot
// exhaust the stack.
#include "src/http/json_body.hpp"

#include "src/http/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <cctype>
#include <cmath>

namespace switchboard::http {

parsed_body parse_json_object(const http_request& request) {
  parsed_body out;
  if (auto type = request.header("content-type")) {
    std::string media{type->substr(0, type->find(';'))};
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
      media.pop_back();
    for (auto& c : media) // media types are case-insensitive (RFC 9110)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (media != "application/json") {
      out.error = "Content-Type must be application/json";
      return out;
    }
  }
  boost::json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  auto value = boost::json::parse(request.body, ec, {}, options);
  if (ec) {
    out.error = "body: malformed JSON (" + ec.message() + ")";
    return out;
  }
  if (!value.is_object()) {
    out.error = "body: must be a JSON object";
    return out;
  }
  out.object = std::move(value.as_object());
  return out;
}

std::optional<boost::json::object> body_or_400(route_call& call) {
  auto body = parse_json_object(call.request);
  if (!body.error.empty()) {
    call.respond(bad_request(body.error));
    return std::nullopt;
  }
  return std::move(body.object);
}

namespace {

std::size_t code_points(const boost::json::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80; // count lead bytes; Boost.JSON validated UTF-8
  return n;
}

} // namespace

bool field_reader::rejected(route_call& call) const {
  if (ok())
    return false;
  call.respond(bad_request(error_));
  return true;
}

void field_reader::fail(const char* name, const std::string& what) {
  if (error_.empty())
    error_ = std::string{name} + ": " + what;
}

std::optional<std::string> field_reader::string(const char* name,
                                                std::size_t min,
                                                std::size_t max,
                                                bool required) {
  auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(name, "is required");
    return std::nullopt;
  }
  auto* s = v->if_string();
  auto n = s ? code_points(*s) : 0;
  if (s == nullptr || n < min || n > max ||
      s->find('\0') != boost::json::string::npos) {
    fail(name, "must be a string of " + std::to_string(min) + " to " +
                   std::to_string(max) + " characters");
    return std::nullopt;
  }
  return std::string{s->data(), s->size()};
}

std::optional<bool> field_reader::boolean(const char* name, bool required) {
  auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(name, "is required");
    return std::nullopt;
  }
  if (!v->is_bool()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<int64_t> field_reader::id(const char* name, bool required) {
  auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(name, "is required");
    return std::nullopt;
  }
  if (v->is_int64() && v->as_int64() > 0)
    return v->as_int64();
  if (v->is_uint64() && v->as_uint64() > 0 &&
      v->as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v->as_uint64());
  fail(name, "must be a positive 64-bit integer");
  return std::nullopt;
}

std::optional<int64_t> field_reader::integer(const char* name, int64_t min,
                                             int64_t max, bool required) {
  auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(name, "is required");
    return std::nullopt;
  }
  if (v->is_int64() && v->as_int64() >= min && v->as_int64() <= max)
    return v->as_int64();
  if (v->is_uint64() && max >= 0 &&
      v->as_uint64() <= static_cast<uint64_t>(max) &&
      static_cast<int64_t>(v->as_uint64()) >= min)
    return static_cast<int64_t>(v->as_uint64());
  fail(name, "must be an integer from " + std::to_string(min) + " to " +
                 std::to_string(max));
  return std::nullopt;
}

} // namespace switchboard::http

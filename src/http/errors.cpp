// errors — see errors.hpp.
#include "src/http/errors.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

http_response error_response(unsigned status, std::string_view code,
                             std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object body;
  body["error"] = std::move(error);
  http_response response;
  response.status = status;
  response.body = boost::json::serialize(body);
  return response;
}

http_response unavailable(std::string_view message, unsigned retry_after_s) {
  auto response = error_response(503, "unavailable", message);
  response.with("Retry-After", std::to_string(retry_after_s));
  return response;
}

} // namespace switchboard::http

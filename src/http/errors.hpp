// errors — builds the contract's error responses:
// {"error":{"code":"<snake_case>","message":"<human text>"}}. The only place
// that spells error bodies; both the socket layer and handlers use it.
#pragma once

#include "switchboard/http.hpp"

#include <string_view>

namespace switchboard::http {

http_response error_response(unsigned status, std::string_view code,
                             std::string_view message);

inline http_response bad_request(std::string_view message) {
  return error_response(400, "bad_request", message);
}

inline http_response not_found(std::string_view message = "not found") {
  return error_response(404, "not_found", message);
}

/// 503 with Retry-After, for a dependency that is down.
http_response unavailable(std::string_view message, unsigned retry_after_s = 1);

} // namespace switchboard::http

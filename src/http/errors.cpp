// errors — see errors.hpp.
#include "src/http/errors.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string>

namespace switchboard::http {

namespace {

/// `text` with every byte that is not part of well-formed UTF-8 replaced by
/// U+FFFD: messages quote client input, and the body promises UTF-8.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80           ? 1
               : (c >> 5) == 0x6  ? 2
               : (c >> 4) == 0xE  ? 3
               : (c >> 3) == 0x1E ? 4
                                  : 0;
    bool ok = n > 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (ok && n > 1) { // no overlong forms, surrogates or > U+10FFFF
      uint32_t cp = c & (0x7F >> n);
      for (size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      ok = (n == 2 && cp >= 0x80) ||
           (n == 3 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ||
           (n == 4 && cp >= 0x10000 && cp <= 0x10FFFF);
    }
    if (ok) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

} // namespace

http_response error_response(unsigned status, std::string_view code,
                             std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = valid_utf8(message);
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

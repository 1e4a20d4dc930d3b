// query_string_fuzz — request targets as the router reads them: Boost.URL's
// origin-form parse, decoded segments and query parameters, and the id
// rules for path and query values (src/http/router.cpp).
#include "src/common/ids.hpp"

#include <boost/url/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target{reinterpret_cast<const char*>(data), size};
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed)
    return 0;
  for (auto segment : parsed->segments()) {
    std::string value = segment;
    int64_t id = 0;
    if (switchboard::parse_id(value, id) && id <= 0)
      std::abort();
  }
  for (auto param : parsed->params()) {
    std::string value = param.has_value ? std::string{param.value} : "";
    int64_t id = 0;
    if (switchboard::parse_id(value, id) && id <= 0)
      std::abort();
  }
  return 0;
}

// times — see times.hpp.
#include "src/http/times.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace switchboard::http {

std::string rfc3339_ms(int64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(ms % 1000));
  return buf;
}

std::string now_rfc3339() {
  return rfc3339_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
}

} // namespace switchboard::http

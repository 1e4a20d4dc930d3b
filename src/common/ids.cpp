// ids — see ids.hpp.
#include "src/common/ids.hpp"

#include <charconv>

namespace switchboard {

bool parse_id(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 19 || text[0] == '0')
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out > 0;
}

} // namespace switchboard

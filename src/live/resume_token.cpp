// resume_token — see resume_token.hpp. Channel names are [a-z0-9:], so
// '@' and ',' never occur inside one.
#include "src/live/resume_token.hpp"

#include "src/live/client_frames.hpp"

namespace switchboard::live {

std::string encode_resume(const resume_offsets& offsets) {
  std::string out;
  for (auto& [channel, offset] : offsets) {
    if (!out.empty())
      out += ',';
    out += channel;
    out += '@';
    out += std::to_string(offset);
  }
  return out;
}

std::optional<resume_offsets> decode_resume(std::string_view text) {
  resume_offsets out;
  if (text.empty() || text.size() > 16 * 1024)
    return std::nullopt;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto at = item.rfind('@');
    if (at == std::string_view::npos || at == 0)
      return std::nullopt;
    auto channel = item.substr(0, at);
    for (char c : channel)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':'))
        return std::nullopt;
    int64_t offset = 0;
    if (!parse_offset(item.substr(at + 1), offset))
      return std::nullopt;
    out[std::string{channel}] = offset;
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

} // namespace switchboard::live

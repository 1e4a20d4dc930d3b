// resume_token — see resume_token.hpp. Channel names are [a-z0-9:], so the
// separators never occur inside one.
#include "src/live/resume_token.hpp"

#include "src/live/client_frames.hpp"

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <cstdio>

namespace switchboard::live {

namespace {

std::string set_checksum(const std::vector<std::string>& sorted) {
  std::size_t hash = 0;
  for (auto& name : sorted) {
    boost::hash_combine(hash, name);
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x",
                static_cast<unsigned>(hash & 0xffffffffu));
  return buf;
}

} // namespace

std::string encode_resume(const resume_offsets& offsets) {
  std::vector<std::string> names;
  for (auto& [name, offset] : offsets)
    names.push_back(name);
  std::string out = set_checksum(names);
  out += '.';
  bool first = true;
  for (auto& [name, offset] : offsets) {
    if (!first)
      out += '-';
    first = false;
    out += std::to_string(offset);
  }
  return out;
}

std::optional<resume_offsets> decode_resume(std::string_view text,
                                            std::vector<std::string> channels) {
  std::sort(channels.begin(), channels.end());
  channels.erase(std::unique(channels.begin(), channels.end()), channels.end());
  auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() > 64 * 1024 ||
      text.substr(0, dot) != set_checksum(channels))
    return std::nullopt;
  text.remove_prefix(dot + 1);
  resume_offsets out;
  for (auto& name : channels) {
    auto dash = text.find('-');
    int64_t offset = 0;
    if (!parse_offset(text.substr(0, dash), offset))
      return std::nullopt;
    out[name] = offset;
    if (dash == std::string_view::npos) {
      text = {};
    } else {
      text.remove_prefix(dash + 1);
      if (text.empty())
        return std::nullopt;
    }
  }
  if (!text.empty())
    return std::nullopt; // more offsets than channels
  return out;
}

std::string encode_seed(const resume_offsets& offsets) {
  std::string out;
  for (auto& [channel, offset] : offsets) {
    if (!out.empty())
      out += ',';
    out += channel + '@' + std::to_string(offset);
  }
  return out;
}

std::optional<resume_offsets> decode_seed(std::string_view text) {
  resume_offsets out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto at = item.rfind('@');
    int64_t offset = 0;
    if (at == std::string_view::npos ||
        !parse_offset(item.substr(at + 1), offset))
      return std::nullopt;
    out[std::string{item.substr(0, at)}] = offset;
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

} // namespace switchboard::live

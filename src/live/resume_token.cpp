// resume_token — see resume_token.hpp. Channel names are [a-z0-9:], so the
// separators never occur inside one.
#include "src/live/resume_token.hpp"

#include "src/live/client_frames.hpp"

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <cstdio>

namespace switchboard::live {

uint32_t fnv1a_32(std::string_view bytes, uint32_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 16777619u; // the 32-bit FNV prime
  }
  return hash;
}

namespace {

std::string hex8(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(value));
  return buf;
}

} // namespace

std::string channel_set_checksum(const std::vector<std::string>& sorted) {
  // FNV-1a over each name followed by '\n' (never inside a name): a fixed,
  // specified function, so every node of every build agrees (a rolling
  // upgrade must not refuse the ids the old nodes handed out).
  uint32_t hash = 2166136261u; // the 32-bit FNV offset basis
  for (auto& name : sorted) {
    hash = fnv1a_32(name, hash);
    hash = fnv1a_32("\n", hash);
  }
  return hex8(hash);
}

namespace {

// The checksum before it was specified (Boost 1.81's hash_combine, which
// later Boost versions changed): still accepted from Last-Event-ID for one
// release, so the ids that nodes built before handed out keep resuming.
std::string legacy_checksum(const std::vector<std::string>& sorted) {
  std::size_t hash = 0;
  for (auto& name : sorted)
    boost::hash_combine(hash, name);
  return hex8(static_cast<uint32_t>(hash & 0xffffffffu));
}

} // namespace

std::string encode_resume(const resume_offsets& offsets) {
  std::vector<std::string> names;
  for (auto& [name, offset] : offsets)
    names.push_back(name);
  std::string out = channel_set_checksum(names);
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
  if (dot == std::string_view::npos || text.size() > 64 * 1024)
    return std::nullopt;
  auto given = text.substr(0, dot);
  if (given != channel_set_checksum(channels) &&
      given != legacy_checksum(channels))
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

// resume_token — the SSE resume id, and the stream seed the connection
// actor hands to its SSE session. The resume id travels on every event and
// comes back as Last-Event-ID, so it is compact: "<set>.<o1>-<o2>-…", the
// offsets of the stream's channels in name order, after an 8-hex-digit
// checksum of the channel set (an id from another stream is refused rather
// than misapplied): FNV-1a (32-bit) over the sorted names, each followed by
// '\n' — specified, so nodes of any build agree. It is outside input and
// parsed strictly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::live {

/// Offset per channel name (ordered by name).
using resume_offsets = std::map<std::string, int64_t>;

/// 32-bit FNV-1a of `bytes`, continuing from `hash` (the offset basis by
/// default): FNV-1a("") = 811c9dc5, ("a") = e40c292c, ("foobar") = bf9cf968.
uint32_t fnv1a_32(std::string_view bytes, uint32_t hash = 2166136261u);

/// The 8 hex digits naming a channel set (`sorted`: names in order, unique).
std::string channel_set_checksum(const std::vector<std::string>& sorted);

std::string encode_resume(const resume_offsets& offsets);

/// The offsets for `channels` (the stream's names, any order), or nullopt
/// when `text` is not a resume id of exactly this channel set.
std::optional<resume_offsets> decode_resume(std::string_view text,
                                            std::vector<std::string> channels);

/// "name@offset,…": the full offsets, for the hand-off inside the node.
std::string encode_seed(const resume_offsets& offsets);
std::optional<resume_offsets> decode_seed(std::string_view text);

} // namespace switchboard::live

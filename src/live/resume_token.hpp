// resume_token — the SSE resume id: the last offset of every channel of a
// stream, as "channel@offset,channel@offset". Browsers send it back as
// Last-Event-ID on reconnect; it is outside input and parsed strictly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::live {

using resume_offsets = std::map<std::string, int64_t>;

std::string encode_resume(const resume_offsets& offsets);

/// nullopt when `text` is not a resume id we could have issued.
std::optional<resume_offsets> decode_resume(std::string_view text);

} // namespace switchboard::live

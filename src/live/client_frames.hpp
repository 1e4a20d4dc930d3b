// client_frames — decodes one WebSocket text frame into a client_frame.
// Runs on the io thread, so actors receive whole, typed requests. Outside
// input: every field is checked, nothing is trusted, nothing throws.
#pragma once

#include "switchboard/live.hpp"

#include <string_view>

namespace switchboard::live {

client_frame parse_client_frame(std::string_view text);

/// Parses an offset as the server issues them (a decimal sequence number).
bool parse_offset(std::string_view text, int64_t& out);

} // namespace switchboard::live

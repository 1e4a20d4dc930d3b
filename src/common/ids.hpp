// ids — the one parser of the contract's ids (positive 64-bit decimal
// integers, no sign, no leading zero), shared by every layer that reads one
// from the outside: paths and query strings (src/http), channel names
// (src/live), Redis replies. A leaf: includes nothing of the project.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchboard {

/// Parses a positive 64-bit id as the contract defines ids.
bool parse_id(std::string_view text, int64_t& out);

} // namespace switchboard

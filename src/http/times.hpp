// times — the contract's time format (RFC 3339 UTC with milliseconds) for
// times the node itself makes; PostgreSQL formats its own (statements.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace switchboard::http {

/// `ms` since the Unix epoch as "2026-11-22T17:01:16.655Z".
std::string rfc3339_ms(int64_t ms);

/// The current time, formatted the same way.
std::string now_rfc3339();

} // namespace switchboard::http

// script_digest — the name Redis gives a Lua script: the lowercase hex SHA-1
// of its text (what SCRIPT LOAD returns and EVALSHA takes). Computed with
// OpenSSL's libcrypto, a specified SHA-1, so every node of every build names
// a script as Redis does (Boost's uuids::detail::sha1 is an internal detail
// whose digest type changed between Boost versions). Pure.
#pragma once

#include <string>
#include <string_view>

namespace switchboard::redis {

/// SHA-1 of `text`, 40 lowercase hex digits:
/// script_digest("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d".
std::string script_digest(std::string_view text);

} // namespace switchboard::redis

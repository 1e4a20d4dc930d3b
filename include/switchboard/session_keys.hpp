// session_keys — where sessions live in Redis: the token key (value: the
// user id, with a sliding expiry) and the per-user control channel on which
// a logout reaches every node that holds a connection opened with the token.
// Key layout only; never talks to Redis.
#pragma once

#include <cstdint>
#include <string>

namespace switchboard::sessions {

inline std::string token_key(const std::string& prefix,
                             const std::string& token) {
  return prefix + "s:" + token;
}

/// A user's tokens (zset token -> when it was opened): what an account
/// deletion revokes, and what bounds the sessions one user may hold.
inline std::string user_tokens_key(const std::string& prefix, int64_t user_id) {
  return prefix + "ut:" + std::to_string(user_id);
}

/// Control messages for one user's sessions: "logout <token>" and the
/// session actors' own "hello <nonce>" (see session.cpp).
inline std::string control_channel(const std::string& prefix, int64_t user_id) {
  return prefix + "u:" + std::to_string(user_id);
}

inline std::string logout_message(const std::string& token) {
  return "logout " + token;
}

} // namespace switchboard::sessions

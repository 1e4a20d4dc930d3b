// sessions — bearer tokens: minted at register/login, kept in Redis under
// <prefix>s:<token> with a sliding expiry, checked on every authenticated
// request, deleted at logout. Runs inside connection actors; talks to Redis
// only through the redis_bridge.
#pragma once

#include "src/http/router.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace switchboard::http {

/// The token a request carries (Authorization: Bearer, or access_token).
std::string token_of(const route_call& call);

/// Whether `token` has the shape of a token we issue (32 hex digits).
bool well_formed_token(std::string_view token);

/// Compares secrets in time independent of where they differ.
bool same_secret(std::string_view a, std::string_view b);

enum class session_status { found, unknown, rate_limited, unavailable };

/// Looks `token` up (sliding its expiry) and calls `then(status, user_id)`
/// inside `self`. The one place a session token is checked. With
/// `count_request`, the request counts against the token's per-second
/// budget (requests_per_token_per_s, cluster-wide: the count is in Redis).
void find_session(caf::event_based_actor* self, const node_context& node,
                  const std::string& token,
                  std::function<void(session_status, int64_t)> then,
                  bool count_request = false);

/// Runs `then(user_id)` for a request with a valid token; answers 401, 429
/// (over the token's request rate, with Retry-After) or 503 (Redis cannot
/// be asked) otherwise.
void with_user(route_call& call, std::function<void(int64_t user_id)> then);

/// Creates a session for `user_id`; `then(token)` runs once it is stored,
/// or 503 is answered.
void open_session(route_call& call, int64_t user_id,
                  std::function<void(std::string token)> then);

/// Ends the request's session; answers 204 (also for unknown tokens).
void close_session(route_call& call);

/// Ends every session of `user_id` (an account deletion): the tokens stop
/// working and their live connections close on every node.
void end_all_sessions(caf::event_based_actor* self,
                      const node_context_ptr& node, int64_t user_id);

} // namespace switchboard::http

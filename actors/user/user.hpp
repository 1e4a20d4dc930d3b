// user — one actor per signed-in user with live connections on this
// node: it owns the set of that user's WebSocket and SSE connection actors
// (one user, many tabs and devices) and the node's subscription to the
// user's control channel, so a logout on any node closes every connection
// opened with that token here. Spawned and retired by user_registry.
// Never writes to a socket itself: it tells connection actors to close.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace switchboard {

struct user_config {
  int64_t user_id = 0;
  std::string prefix; // the node's Redis key prefix
  caf::actor redis_bridge;
  std::chrono::milliseconds redis_timeout{1000};
  /// Every this long each token held is checked again (EXISTS): a token
  /// that expired, or was removed without a logout message, closes its
  /// connections within token_check + redis_timeout.
  std::chrono::milliseconds token_check{30'000};
};

/// Accepts `(user_join_atom, token, caf::actor connection)`,
/// `(user_leave_atom, caf::actor connection)`, `(logout_atom, token)`,
/// `(user_stop_atom)`, its own `(tick_atom)` (the token re-check) and
/// the bridge's subscription messages. Sends
/// `(logout_atom)` to each connection of a logged-out token, and reports
/// `(user_idle_atom, user_id, handled)` to its parent whenever its last
/// connection left.
caf::actor spawn_user(caf::local_actor* parent,
                      std::shared_ptr<node_stats> stats, user_config config);

} // namespace switchboard

// session_registry — the node's map from user id to that user's session
// actor. Spawns a session on the user's first live connection here and
// retires it when the last one has left; delivers a logout made on this node
// straight to the session (other nodes hear it through Redis). Never
// touches sockets or tokens' contents.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct session_registry_config {
  caf::actor redis_bridge;
  std::string key_prefix;
  std::chrono::milliseconds redis_timeout{1000};
};

/// Accepts `(session_join_atom, user_id, token, caf::actor connection)`,
/// `(session_leave_atom, user_id, caf::actor connection)` and
/// `(logout_atom, user_id, token)`.
caf::actor spawn_session_registry(caf::actor_system& system,
                                  std::shared_ptr<node_stats> stats,
                                  session_registry_config config);

} // namespace switchboard

// user_registry — the node's map from user id to that user's user
// actor. Spawns a user actor on the user's first live connection here and
// retires it when the last one has left; delivers a logout made on this node
// straight to the user actor (other nodes hear it through Redis); and keeps
// this node's users online in Redis (presence). Never touches sockets or
// tokens' contents.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/live/presence.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct user_registry_config {
  caf::actor redis_bridge;
  std::string key_prefix;
  std::chrono::milliseconds redis_timeout{1000};
  /// Users with a user actor here are online (src/live/presence.cpp): marked
  /// when their first connection arrives, renewed every `presence_refresh`,
  /// and left when their last one goes.
  live::presence_settings presence;
  std::chrono::milliseconds presence_refresh{10'000};
  /// How often each user actor re-checks its tokens (see user_config).
  std::chrono::milliseconds token_check{30'000};
};

/// Accepts `(user_join_atom, user_id, token, caf::actor connection)`,
/// `(user_leave_atom, user_id, caf::actor connection)` and
/// `(logout_atom, user_id, token)`.
caf::actor spawn_user_registry(caf::actor_system& system,
                               std::shared_ptr<node_stats> stats,
                               user_registry_config config);

} // namespace switchboard

// redis_bridge — the node's one door to Redis. Owns the command connection
// (and, with live updates, the Pub/Sub connection), turns requests from
// actors into Redis commands and replies back into responses. It keeps a
// bounded table of commands in flight; it never blocks and never parses
// application data.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/redis/redis_connection.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace switchboard {

struct redis_bridge_config {
  std::size_t max_pending = 10'000;
};

/// Accepts `(redis_cmd_atom, redis_command) -> redis_reply`. Starts
/// `commands` and stops it when the bridge exits.
caf::actor spawn_redis_bridge(caf::actor_system& system,
                              std::shared_ptr<node_stats> stats,
                              std::shared_ptr<redis::connection> commands,
                              redis_bridge_config config);

} // namespace switchboard

// node_context.hpp — what every connection actor is handed at spawn: the
// node's configuration, its counters and the handles of the node-wide actors.
// Immutable once the node has started.
#pragma once

#include "switchboard/config.hpp"
#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <memory>

namespace switchboard {

struct node_context {
  std::shared_ptr<const node_config> config;
  std::shared_ptr<node_stats> stats;
  caf::actor cache;
  caf::actor db_pool;
  caf::actor redis_bridge;
  std::chrono::steady_clock::time_point started;
};

using node_context_ptr = std::shared_ptr<const node_context>;

} // namespace switchboard

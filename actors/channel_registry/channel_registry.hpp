// channel_registry — the node's map from channel name to its channel actor.
// Spawns a channel on its first local subscriber and retires it when the
// last one has left, so the node listens in Redis only to channels someone
// here reads. Never touches a message's content.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/live/presence.hpp"
#include "src/live/publisher.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct channel_registry_config {
  caf::actor redis_bridge;
  std::string key_prefix;
  std::chrono::milliseconds redis_timeout{1000};
  live::history_settings history;
  live::presence_settings presence;
  std::chrono::milliseconds presence_refresh{10'000};
};

/// Accepts `(channel_join_atom, name, channel_join)` and
/// `(channel_leave_atom, name, caf::actor connection)`.
caf::actor spawn_channel_registry(caf::actor_system& system,
                                  std::shared_ptr<node_stats> stats,
                                  channel_registry_config config);

} // namespace switchboard

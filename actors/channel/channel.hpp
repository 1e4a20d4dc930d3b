// channel — one actor per channel that has subscribers on this node: the
// node's subscription to that channel. It holds the local subscribers'
// sinks, the last offset it delivered, and delivers every message once, in
// order: a gap in offsets (Pub/Sub is at-most-once) is filled from the
// channel's history before anything newer goes out, and a subscriber that
// resumes gets the history after its offset before joining live delivery.
// In a presence channel it also keeps its signed-in subscribers present
// (src/live/presence.cpp).
// Spawned and retired by channel_registry; writes only to push_sinks.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/live/presence.hpp"
#include "src/live/publisher.hpp"

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct channel_config {
  std::string name;   // e.g. "comments:chapter:9"
  std::string prefix; // the node's Redis key prefix
  caf::actor redis_bridge;
  std::chrono::milliseconds redis_timeout{1000};
  live::history_settings history;
  /// Set for presence channels (collab:*): who is here is kept in Redis
  /// and renewed every `presence_refresh`.
  bool has_presence = false;
  live::presence_settings presence;
  std::chrono::milliseconds presence_refresh{10'000};
};

/// Accepts `(channel_join_atom, channel_join)`,
/// `(channel_leave_atom, caf::actor connection)`, `(channel_stop_atom)`, and
/// from the bridge `(redis_msg_atom, …)`, `redis_resub_atom`,
/// `redis_lost_atom`. Reports `(channel_idle_atom, name, handled)` to its
/// parent whenever its last subscriber left.
caf::actor spawn_channel(caf::local_actor* parent,
                         std::shared_ptr<node_stats> stats,
                         channel_config config);

} // namespace switchboard

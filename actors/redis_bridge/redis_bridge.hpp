// redis_bridge — the node's one door to Redis. Owns the command connection
// and the Pub/Sub subscriber connection; turns requests from actors into
// Redis commands and replies back into responses, and Pub/Sub messages into
// messages to the actors subscribed to their channel. It keeps a bounded
// table of commands in flight, probes its subscription end to end, and never
// blocks or parses application data.
#pragma once

#include "switchboard/node_stats.hpp"
#include "switchboard/redis_link.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct redis_bridge_config {
  std::size_t max_pending = 10'000;
  /// Channel the bridge PUBLISHes probes to and expects back on its
  /// subscriber connection (a node-private channel).
  std::string probe_channel;
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds probe_timeout{3000};
  /// A command not answered within this (checked with every probe, so up
  /// to probe_interval later) gets an `unavailable` reply. Callers on hot
  /// paths may therefore ask without a timeout of their own: in CAF 0.17
  /// every request timeout wakes the clock thread twice, which costs more
  /// than the command itself when the node has one core.
  std::chrono::milliseconds command_timeout{1000};
  /// Where the bridge reports its connections' health in node_stats: a
  /// node with a separate cache Redis runs a second bridge that reports in
  /// cache_redis_up / cache_pubsub_up.
  std::atomic<bool> node_stats::*redis_up = &node_stats::redis_up;
  std::atomic<bool> node_stats::*pubsub_up = &node_stats::pubsub_up;
};

/// `commands` and `subscriber` are the two links (the node passes
/// src/redis/redis_connection; a subscriber link is in SUBSCRIBE mode).
/// Accepts:
/// - `(redis_cmd_atom, redis_command) -> redis_reply`, always answered:
///   by Redis, or `unavailable` after command_timeout
/// - `(redis_sub_atom, channel)` / `(redis_unsub_atom, channel)`: the sender
///   (un)subscribes; it then receives `(redis_msg_atom, channel, payload)`
///   for every message, `(redis_resub_atom)` whenever the subscription is
///   (re)established (messages may have been missed before it),
///   `(redis_lost_atom)` when it is lost, and `(redis_up_atom)` /
///   `(redis_down_atom)` when the command connection comes and goes.
caf::actor spawn_redis_bridge(caf::actor_system& system,
                              std::shared_ptr<node_stats> stats,
                              std::shared_ptr<redis_link> commands,
                              std::shared_ptr<redis_link> subscriber,
                              redis_bridge_config config);

} // namespace switchboard

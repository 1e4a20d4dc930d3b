// actor_kind.hpp — the closed list of actor kinds a node runs, and their
// names as they appear in /stats and /metrics. Adding a kind means adding it
// here; nothing else may invent kind names.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace switchboard {

enum class actor_kind : std::size_t {
  connection,       // one per accepted HTTP/WS/SSE connection
  user,             // one per signed-in user with live connections on this node
  user_registry,    // the node's map from user id to user actor
  channel,          // one per channel with local subscribers
  channel_registry, // the node's map from channel name to channel actor
  cache,            // the node's cache registry: key -> cache_entry
  cache_entry,      // one per key while a load for it is in flight
  redis_bridge,     // owns the node's Redis connections
  db_pool,          // queues database jobs for idle workers
  db_worker,        // owns one PostgreSQL connection (detached: blocking I/O)
  fanout,           // sends new-chapter notifications in the background
  feed_keeper,      // repairs notification feeds a failed change left suspect
  count_            // not a kind: the number of kinds
};

inline constexpr std::size_t actor_kind_count =
    static_cast<std::size_t>(actor_kind::count_);

inline constexpr std::array<std::string_view, actor_kind_count>
    actor_kind_names{
        "connection",       "user",      "user_registry", "channel",
        "channel_registry", "cache",     "cache_entry",   "redis_bridge",
        "db_pool",          "db_worker", "fanout",        "feed_keeper"};

constexpr std::string_view to_string(actor_kind kind) {
  return actor_kind_names[static_cast<std::size_t>(kind)];
}

} // namespace switchboard

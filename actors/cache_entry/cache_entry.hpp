// cache_entry — one actor per cache key while that key is being loaded. It
// collects every concurrent reader of the key, asks Redis once, asks the
// database once on a miss, stores what it loaded, and answers all readers
// with the one result. Spawned and retired only by the `cache` actor.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct cache_entry_config {
  std::string key;       // as the reader named it, e.g. "book:42"
  std::string redis_key; // with the node's key prefix
  caf::actor redis_bridge;
  caf::actor db_pool;
  std::chrono::milliseconds redis_timeout;
  std::chrono::milliseconds db_timeout;
};

/// Spawns an entry owned by `parent`, to which it reports
/// `(entry_done_atom, key, answered)` whenever it has answered everyone.
/// Accepts `(cache_get_atom, cache_request) -> cache_result` and
/// `(entry_stop_atom)`.
caf::actor spawn_cache_entry(caf::local_actor* parent,
                             std::shared_ptr<node_stats> stats,
                             cache_entry_config config);

/// The strong ETag of a cached body; the same on every node.
std::string etag_of(const std::string& body);

/// The value stored in Redis to remember that a key does not exist. Cached
/// bodies are JSON objects, which can never start with '!'.
inline constexpr std::string_view negative_marker = "!404";

} // namespace switchboard

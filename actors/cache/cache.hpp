// cache — the node's cache registry. Maps a key to the cache_entry actor
// that is loading it, spawning one on demand and retiring it once it has
// answered everyone, so entry actors exist only while their key is in
// flight. It never talks to Redis or PostgreSQL itself.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct cache_config {
  caf::actor redis_bridge;
  caf::actor db_pool;
  std::string key_prefix = "sb:"; // namespaces our Redis keys
  std::chrono::milliseconds redis_timeout{1000};
  std::chrono::milliseconds db_timeout{3000};
};

/// Accepts `(cache_get_atom, cache_request) -> cache_result`.
caf::actor spawn_cache(caf::actor_system& system,
                       std::shared_ptr<node_stats> stats, cache_config config);

} // namespace switchboard

// cache — the node's cache: its L1 (a bounded map of recent values), the
// registry of cache_entry actors (one per key while it loads), and the
// node's end of cache invalidation across the cluster. Answers fresh L1 hits
// itself; sends everything else to the key's entry. It never talks to
// PostgreSQL and reaches Redis only through the redis_bridge.
#pragma once

#include "switchboard/cache.hpp"
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
  std::string node_id;
  std::string key_prefix = "sb:"; // namespaces our Redis keys and channels
  std::chrono::milliseconds redis_timeout{1000};
  std::chrono::milliseconds db_timeout{3000};
  std::chrono::milliseconds lease_wait{3000};
  std::chrono::milliseconds soft_timeout{500};
  std::chrono::milliseconds ack_timeout{500};
  /// With Redis entirely down no invalidation reaches any node: L1 values
  /// are then fresh for at most this long (bounded staleness).
  std::chrono::milliseconds outage_ttl{2000};
  std::size_t max_replayed_groups = 10'000;
  /// How often invalidations that could not reach Redis are retried
  /// (0: only when Redis or the subscription comes back).
  std::chrono::milliseconds replay_interval{5000};
  std::size_t l1_max_entries = 100'000;
  std::size_t l1_max_bytes = 64u << 20;
  unsigned ttl_jitter_percent = 10;
  /// Value keys one group's member set lists in Redis (cache_keys.hpp).
  std::size_t group_members_max = 10'000;
  /// Told of every generation change (may be null).
  std::shared_ptr<cache_listener> listener;
};

/// Accepts `(cache_get_atom, cache_request) -> cache_result` and
/// `(cache_inval_atom, std::vector<std::string> groups) -> bool`
/// (include/switchboard/cache.hpp).
caf::actor spawn_cache(caf::actor_system& system,
                       std::shared_ptr<node_stats> stats, cache_config config);

} // namespace switchboard

// cache_entry — one actor per cache key while that key is being loaded or
// refreshed. It collects every concurrent reader of the key on this node,
// asks Redis once (taking the cluster-wide load lease when a load is
// needed), waits for another node's load instead of repeating it, loads from
// the database at most once, stores the result only if no invalidation
// happened meanwhile, and answers all readers with one result. Spawned and
// retired only by the `cache` actor; it never touches the L1.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/cache/cached_value.hpp"

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard {

struct cache_entry_config {
  std::string key;         // as readers name it, e.g. "book:42"
  std::string prefix;      // the node's Redis key prefix
  std::string lease_token; // unique to this entry: who holds the lease
  caf::actor redis_bridge;
  caf::actor db_pool;
  std::chrono::milliseconds redis_timeout;
  std::chrono::milliseconds db_timeout;
  std::chrono::milliseconds lease_wait;   // wait for another node's load
  std::chrono::milliseconds soft_timeout; // then answer stale if we can
  unsigned ttl_jitter_percent = 10;
  std::size_t group_members_max = 10'000; // value keys listed per group
};

/// Spawns an entry owned by `parent`. It accepts
/// - `(cache_get_atom, cache_request, optional_value fallback) -> cache_result`
/// - `(cache_refresh_atom, cache_request, bool early)`: refresh in the
///   background (early: an XFetch refresh of a value still fresh)
/// - `(cache_fill_atom)`: another node stored or gave up the key
/// - `(entry_stop_atom)`: retire once idle
/// and reports `(entry_done_atom, key, answered, optional_value)` to the
/// parent whenever it is idle again, with the value it last saw, if any.
caf::actor spawn_cache_entry(caf::local_actor* parent,
                             std::shared_ptr<node_stats> stats,
                             cache_entry_config config);

} // namespace switchboard

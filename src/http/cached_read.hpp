// cached_read — the one way a handler serves a cached resource: ask the
// cache actor, then turn the cache_result into the HTTP answer (status,
// X-Cache, ETag, If-None-Match -> 304, Cache-Control, 503 + Retry-After).
#pragma once

#include "switchboard/cache.hpp"

#include "src/http/router.hpp"

#include <functional>

namespace switchboard::http {

/// Which TTL from the configuration applies.
enum class freshness_class { item, list, packages };

/// Serves `key` (invalidated with `group`) through the cache; `what` names
/// the resource in 404s.
void serve_cached(route_call& call, std::string key, std::string group,
                  freshness_class kind, db_job load, std::string_view what);

/// Serves the resource `<kind>:<id>` named by the path's first parameter
/// (400 for a bad id), invalidated as a group of its own.
void serve_item(route_call& call, std::string_view kind,
                db_job (*load)(int64_t id));

/// Whether user `user_id` exists and is not deleted, through the cache (an
/// L1 hit, usually): `then(false)` only for a user known to be gone — an
/// unavailable cache answers true (the session already vouched).
void user_exists(caf::event_based_actor* self, const node_context_ptr& node,
                 int64_t user_id, std::function<void(bool)> then);

} // namespace switchboard::http

// cached_read — the one way a handler serves a cached resource: ask the
// cache actor, then turn the cache_result into the HTTP answer (status,
// X-Cache, ETag, If-None-Match -> 304, Cache-Control, 503 + Retry-After).
#pragma once

#include "switchboard/cache.hpp"

#include "src/http/router.hpp"

namespace switchboard::http {

/// Serves `key` through the cache; `what` names the resource in 404s.
void serve_cached(route_call& call, std::string key, db_job load,
                  std::string_view what);

} // namespace switchboard::http

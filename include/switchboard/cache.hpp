// cache.hpp — the cache protocol: what readers and writers ask the `cache`
// actor and what they get back. The cache knows nothing of resources: a
// read carries its key, its invalidation group, its freshness policy and the
// db_job that loads it on a miss; a write names the groups it changed.
#pragma once

#include "switchboard/db.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace switchboard {

struct cache_policy {
  std::chrono::seconds ttl{300};         // fresh for this long (jittered)
  std::chrono::seconds negative_ttl{10}; // how long a 404 is remembered
  std::chrono::seconds stale{60};   // then served stale while one refresh runs
  std::chrono::seconds grace{3600}; // then served stale only if the DB fails
};

/// `(cache_get_atom, cache_request) -> cache_result`
struct cache_request {
  std::string key;   // e.g. "book:42"; no spaces
  std::string group; // what invalidates it, e.g. "book:42" or "books:list"
  cache_policy policy;
  db_job load;
};

/// `(cache_inval_atom, std::vector<std::string> groups) -> bool`: answers
/// once the groups are gone from this node, from Redis and from every node
/// subscribed to the cache's events (true), or after the acknowledgement
/// deadline / when Redis is unreachable (false; logged).

/// How the answer was produced; becomes the X-Cache header.
enum class cache_source { hit, miss, coalesced, stale };

enum class cache_status { found, not_found, unavailable };

struct cache_result {
  cache_status status = cache_status::unavailable;
  cache_source source = cache_source::miss;
  std::shared_ptr<const std::string> body; // serialized JSON, when found
  std::string etag;                        // strong ETag of body
};

const char* to_string(cache_source source);

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::cache_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::cache_result)

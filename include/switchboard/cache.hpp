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
  /// A fresh hit from the L1: the cache's generation when it answered and
  /// the value's freshness (wall clock ms); 0 otherwise. The socket layer
  /// may answer the same read from memory while the cache stays at that
  /// generation (see cache_listener).
  uint64_t generation = 0;
  int64_t fresh_until_ms = 0;
};

/// Told by the cache actor, before it acknowledges anything, whenever values
/// it answered may have gone stale (an invalidation; the L1 cleared or its
/// freshness capped): `generation` is the cache's new generation, and no
/// answer of an older one may be reused. Must not block: the implementation
/// (src/net/hot_responses) posts to the io thread.
class cache_listener {
public:
  virtual ~cache_listener() = default;
  virtual void stale_from(uint64_t generation) = 0;
};

const char* to_string(cache_source source);

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::cache_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::cache_result)

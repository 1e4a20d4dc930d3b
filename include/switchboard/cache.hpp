// cache.hpp — the cache protocol: what a reader asks the `cache` actor and
// what it gets back. The cache knows nothing of resources: a request carries
// its key, its freshness policy and the db_job that loads it on a miss.
#pragma once

#include "switchboard/db.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct cache_policy {
  std::chrono::seconds ttl{300};
  std::chrono::seconds negative_ttl{10}; // how long a 404 is remembered
};

/// `(cache_get_atom, cache_request) -> cache_result`
struct cache_request {
  std::string key;
  cache_policy policy;
  db_job load;
};

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

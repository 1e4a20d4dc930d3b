// unauthenticated_requests — the per-address allowance of HTTP requests that
// no credential vouches for: each address (address_key) has two token
// buckets of `rate` per second up to `burst`, one charged by every request
// without a credential (no Authorization, X-Api-Key or access_token), one by
// every request answered 401 (a credential that was refused). Past the
// first, requests without a credential from that address get 429; past the
// second, every request from it does (a client cycling bogus tokens is
// unauthenticated too). Signed-in traffic is never charged: it has its own
// per-token rate (requests_per_token_per_s).
// Callers pass the address already keyed (address_key, once per
// connection, not per request).
// The table holds at most `max_addresses` entries; a full table first drops
// the addresses whose buckets have refilled (a sweep at most once a
// second), and if none has, lets a new
// address through uncounted (the verdict says so): a flood from that many
// addresses is for max_connections, not for a per-address limit.
// Bookkeeping only, thread-safe (one mutex; uncontended with one io thread);
// never touches a socket. rate 0: the whole limit is off.
#pragma once

#include "src/live/token_bucket.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace switchboard::net {

class unauthenticated_requests {
public:
  using clock = live::token_bucket::clock;

  unauthenticated_requests(uint32_t rate, uint32_t burst,
                           std::size_t max_addresses)
      : rate_(rate), burst_(burst), max_addresses_(max_addresses) {}

  bool enabled() const { return rate_ > 0; }

  struct verdict {
    std::chrono::milliseconds wait{0}; // zero: go on; else Retry-After
    bool untracked = false;            // the table was full: not counted
  };

  /// Whether a request from `key` (an address_key) may go on (one without
  /// a credential is charged for it).
  verdict admit(const std::string& key, bool has_credential,
                clock::time_point now = clock::now());

  /// A request from `key` was answered 401.
  void refused_credential(const std::string& key,
                          clock::time_point now = clock::now());

  std::size_t tracked() const;

private:
  struct entry {
    live::token_bucket anonymous;
    live::token_bucket refused;
  };
  entry* find_or_make(const std::string& key, clock::time_point now);

  const uint32_t rate_;
  const uint32_t burst_;
  const std::size_t max_addresses_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  clock::time_point next_sweep_{};
};

} // namespace switchboard::net

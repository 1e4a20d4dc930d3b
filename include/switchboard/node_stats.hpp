// node_stats.hpp — the node's operational counters, read by /stats and
// /metrics. This is the one piece of state shared across actors and threads:
// it holds only relaxed atomics, written by their owners and read by anyone.
// It must never hold anything an actor would act upon.
#pragma once

#include "switchboard/actor_kind.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace switchboard {

/// Live figures per actor kind.
struct actor_kind_stats {
  std::atomic<int64_t> count{0};         // live actors of this kind
  std::atomic<uint64_t> processed{0};    // messages consumed, ever
  std::atomic<uint64_t> mailbox_peak{0}; // deepest mailbox, this window
  std::atomic<uint64_t> mailbox_prev{0}; // deepest mailbox, last window
};

struct cache_stats {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  std::atomic<uint64_t> stale{0};
  std::atomic<uint64_t> coalesced{0};
  std::atomic<uint64_t> db_fetches{0};
  std::atomic<uint64_t> evictions{0};
  std::atomic<int64_t> entries{0};
  std::atomic<int64_t> l1_bytes{0};
  std::atomic<uint64_t> redis_errors{0};
  std::atomic<uint64_t> hot_hits{0}; // of `hits`: answered on the io thread
};

struct pubsub_stats {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> dropped{0};
  // Messages that followed an offset older than one delivered: Redis lost
  // writes (a crash, a failover) and resumes from before were refused.
  std::atomic<uint64_t> offsets_went_back{0};
};

struct fanout_stats {
  std::atomic<int64_t> running{0};    // jobs this node is working on
  std::atomic<uint64_t> jobs_done{0}; // jobs this node finished
  std::atomic<uint64_t> batches{0};   // batches this node committed
  std::atomic<uint64_t> notified{0};  // followers this node notified
  std::atomic<uint64_t> failures{0};  // batches that failed (retried)
};

struct feed_stats {
  std::atomic<int64_t> suspect{0};     // feeds waiting to be dropped now
  std::atomic<uint64_t> repaired{0};   // suspect feeds dropped
  std::atomic<uint64_t> unrepaired{0}; // suspects refused: the set was full
};

struct connection_stats {
  std::atomic<int64_t> http{0};
  std::atomic<int64_t> ws{0};
  std::atomic<int64_t> sse{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rejected{0}; // answered by the protocol layer (4xx)
  std::atomic<uint64_t> refused{0};  // closed at accept: a connection limit
  // 429: an address past anon_requests_per_ip
  // (src/net/unauthenticated_requests)
  std::atomic<uint64_t> unauthenticated_limited{0};
  // anonymous subscriptions refused: an address at anon_subscriptions_per_ip
  std::atomic<uint64_t> anonymous_subscriptions_refused{0};
};

struct node_stats {
  std::array<actor_kind_stats, actor_kind_count> actors;
  cache_stats cache;
  pubsub_stats pubsub;
  fanout_stats fanout;
  feed_stats feeds;
  connection_stats connections;
  std::atomic<bool> redis_up{false};
  std::atomic<bool> pubsub_up{false};
  // The same two for the cache's own Redis (redis_cache_url), when it has one.
  std::atomic<bool> cache_redis_up{false};
  std::atomic<bool> cache_pubsub_up{false};
  std::atomic<bool> db_up{false};

  actor_kind_stats& of(actor_kind kind) {
    return actors[static_cast<std::size_t>(kind)];
  }

  /// Records a mailbox depth seen by an actor of `kind`.
  void record_mailbox(actor_kind kind, uint64_t depth) {
    auto& peak = of(kind).mailbox_peak;
    auto seen = peak.load(std::memory_order_relaxed);
    while (depth > seen && !peak.compare_exchange_weak(
                               seen, depth, std::memory_order_relaxed)) {
    }
  }

  /// Starts a new mailbox-peak window; called periodically by the node so
  /// that `mailbox_max` reports recent pressure rather than all-time peaks.
  void rotate_mailbox_window() {
    for (auto& kind : actors)
      kind.mailbox_prev.store(kind.mailbox_peak.exchange(0),
                              std::memory_order_relaxed);
  }
};

inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

} // namespace switchboard

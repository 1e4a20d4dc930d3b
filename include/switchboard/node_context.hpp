// node_context.hpp — what every connection actor is handed at spawn: the
// node's configuration, its counters and the handles of the node-wide actors.
// Immutable once the node has started.
#pragma once

#include "switchboard/config.hpp"
#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp> // first: std::hash<actor_addr>, for the set below

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace switchboard::http {
class static_site; // src/http/static_site.hpp
} // namespace switchboard::http
namespace switchboard::live {
class anonymous_subscriptions; // src/live/anonymous_subscriptions.hpp
} // namespace switchboard::live

namespace switchboard {

/// The connection actors alive on this node, so the final shutdown can end
/// those whose sockets never said goodbye (a WebSocket outlives the HTTP
/// session that upgraded it). Like node_stats, shared bookkeeping only.
class connection_tracker {
public:
  void add(const caf::actor_addr& a) {
    std::lock_guard<std::mutex> guard{mutex_};
    live_.insert(a);
  }
  void remove(const caf::actor_addr& a) {
    std::lock_guard<std::mutex> guard{mutex_};
    live_.erase(a);
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return live_.size();
  }
  std::vector<caf::actor_addr> snapshot() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return {live_.begin(), live_.end()};
  }

private:
  mutable std::mutex mutex_;
  std::unordered_set<caf::actor_addr> live_;
};

struct node_context {
  std::shared_ptr<const node_config> config;
  std::shared_ptr<node_stats> stats;
  caf::actor cache;
  caf::actor db_pool;
  caf::actor redis_bridge;
  caf::actor cache_redis_bridge; // the cache's own Redis; null: it shares ours
  caf::actor channels;           // channel_registry
  caf::actor users;              // user_registry
  caf::actor fanout;
  caf::actor feed_keeper; // repairs notification feeds (actors/feed_keeper)
  std::shared_ptr<connection_tracker> connections;
  std::shared_ptr<const http::static_site> site; // the demo app's files
  // Anonymous subscriptions per client address (anon_subscriptions_per_ip).
  std::shared_ptr<live::anonymous_subscriptions> anonymous_subscriptions;
  std::chrono::steady_clock::time_point started;
};

using node_context_ptr = std::shared_ptr<const node_context>;

} // namespace switchboard

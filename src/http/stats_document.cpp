// stats_document — see stats_document.hpp.
#include "src/http/stats_document.hpp"

#include <boost/json.hpp>

#include <chrono>

namespace switchboard::http {

namespace {

double uptime_seconds(const node_context& node) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       node.started)
      .count();
}

} // namespace

boost::json::object stats_document(const node_context& node) {
  auto& s = *node.stats;
  auto load = [](const auto& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  boost::json::object actors;
  for (size_t i = 0; i < actor_kind_count; ++i) {
    auto& kind = s.actors[i];
    actors[std::string{actor_kind_names[i]}] = {
        {"count", load(kind.count)},
        {"mailbox_max",
         std::max(load(kind.mailbox_peak), load(kind.mailbox_prev))},
        {"processed", load(kind.processed)},
    };
  }
  auto ws = load(s.connections.ws);
  auto sse = load(s.connections.sse);
  boost::json::object doc;
  doc["node_id"] = node.config->node_id;
  doc["uptime_s"] = static_cast<int64_t>(uptime_seconds(node));
  doc["actors"] = std::move(actors);
  doc["connections"] = {
      {"ws", ws},
      {"sse", sse},
      {"http", load(s.connections.http)},
      {"accepted", load(s.connections.accepted)},
      {"requests", load(s.connections.requests)},
      {"rejected", load(s.connections.rejected)},
      {"refused", load(s.connections.refused)},
      {"unauthenticated_limited", load(s.connections.unauthenticated_limited)},
      {"anonymous_subscriptions_refused",
       load(s.connections.anonymous_subscriptions_refused)},
  };
  doc["cache"] = {
      {"hits", load(s.cache.hits)},
      {"misses", load(s.cache.misses)},
      {"stale", load(s.cache.stale)},
      {"coalesced", load(s.cache.coalesced)},
      {"db_fetches", load(s.cache.db_fetches)},
      {"evictions", load(s.cache.evictions)},
      {"entries", load(s.cache.entries)},
      {"l1_bytes", load(s.cache.l1_bytes)},
      {"redis_errors", load(s.cache.redis_errors)},
      {"hot_hits", load(s.cache.hot_hits)},
  };
  doc["pubsub"] = {
      {"received", load(s.pubsub.received)},
      {"delivered", load(s.pubsub.delivered)},
      {"dropped", load(s.pubsub.dropped)},
      {"offsets_went_back", load(s.pubsub.offsets_went_back)},
  };
  doc["feeds"] = {
      {"suspect", load(s.feeds.suspect)},
      {"repaired", load(s.feeds.repaired)},
      {"unrepaired", load(s.feeds.unrepaired)},
  };
  doc["fanout"] = {
      {"running", load(s.fanout.running)},
      {"jobs_done", load(s.fanout.jobs_done)},
      {"batches", load(s.fanout.batches)},
      {"notified", load(s.fanout.notified)},
      {"failures", load(s.fanout.failures)},
  };
  doc["dependencies"] = {{"redis", load(s.redis_up)},
                         {"postgres", load(s.db_up)}};
  return doc;
}

} // namespace switchboard::http

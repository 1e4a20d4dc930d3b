// ops_handlers — the contract's Operations endpoints: /healthz, /readyz,
// /stats (admin key), /metrics (Prometheus text). They read node_stats and
// probe the dependencies; they change nothing.
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/sessions.hpp"
#include "src/http/times.hpp"
#include "src/store/health.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <cstdio>
#include <ctime>
#include <sstream>

namespace switchboard::http {

namespace {

http_response json_response(const boost::json::value& value) {
  http_response response;
  response.body = boost::json::serialize(value);
  response.with("Cache-Control", "no-store");
  return response;
}

double uptime_seconds(const node_context& node) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       node.started)
      .count();
}

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
  };
  doc["pubsub"] = {
      {"received", load(s.pubsub.received)},
      {"delivered", load(s.pubsub.delivered)},
      {"dropped", load(s.pubsub.dropped)},
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
  // Until nodes publish heartbeats (cluster issue), a node knows itself.
  boost::json::array nodes;
  nodes.push_back({{"node_id", node.config->node_id},
                   {"connections", ws + sse},
                   {"last_seen", now_rfc3339()}});
  doc["cluster"] = {{"nodes", std::move(nodes)}};
  return doc;
}

} // namespace

void get_healthz(route_call& call) {
  call.respond(json_response({{"status", "ok"}}));
}

void get_readyz(route_call& call) {
  // Ask both dependencies at once; answer when both have spoken.
  struct probe {
    responder respond;
    int pending = 2;
    bool redis_ok = false;
    bool postgres_ok = false;
    void done() {
      if (--pending > 0)
        return;
      if (redis_ok && postgres_ok) {
        respond(json_response({{"redis", "ok"}, {"postgres", "ok"}}));
        return;
      }
      std::string down = !redis_ok && !postgres_ok ? "redis and postgres"
                         : !redis_ok               ? "redis"
                                                   : "postgres";
      auto response = unavailable(down + " not answering");
      response.body = boost::json::serialize(boost::json::object{
          {"error",
           {{"code", "unavailable"}, {"message", down + " not answering"}}},
          {"redis", redis_ok ? "ok" : "down"},
          {"postgres", postgres_ok ? "ok" : "down"}});
      respond(std::move(response));
    }
  };
  auto state = std::make_shared<probe>(probe{call.respond});
  auto timeout = std::chrono::milliseconds{call.node->config->redis_timeout_ms};
  call.self
      ->request(call.node->redis_bridge, timeout, redis_cmd_atom::value,
                redis_command{"PING"})
      .then(
          [state, stats = call.node->stats](redis_reply& reply) {
            // Ready only once the Pub/Sub subscription is confirmed: before
            // that the node would miss invalidations and "fill" wake-ups.
            state->redis_ok = reply.ok() && stats->pubsub_up.load();
            state->done();
          },
          [state](caf::error&) { state->done(); });
  call.self
      ->request(call.node->db_pool,
                std::chrono::milliseconds{call.node->config->db_timeout_ms},
                db_run_atom::value, store::ping())
      .then(
          [state](db_result& result) {
            state->postgres_ok = result.status == db_status::ok;
            state->done();
          },
          [state](caf::error&) { state->done(); });
}

void get_stats(route_call& call) {
  const auto& key = call.node->config->admin_key;
  auto given = call.request.header("x-admin-key");
  if (key.empty()) {
    call.respond(error_response(403, "forbidden",
                                "no admin key is configured on this node"));
    return;
  }
  if (!given || !same_secret(*given, key)) {
    call.respond(
        error_response(401, "unauthorized", "X-Admin-Key missing or wrong"));
    return;
  }
  call.respond(json_response(stats_document(*call.node)));
}

void get_metrics(route_call& call) {
  auto doc = stats_document(*call.node);
  std::ostringstream out;
  auto metric = [&out](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' '
        << type << '\n';
  };
  auto& actors = doc["actors"].as_object();
  metric("switchboard_actors", "gauge", "Live actors per kind.");
  for (auto& [kind, v] : actors)
    out << "switchboard_actors{kind=\"" << std::string_view{kind} << "\"} "
        << v.at("count") << '\n';
  metric("switchboard_actor_messages_total", "counter",
         "Messages processed per actor kind.");
  for (auto& [kind, v] : actors)
    out << "switchboard_actor_messages_total{kind=\"" << std::string_view{kind}
        << "\"} " << v.at("processed") << '\n';
  metric("switchboard_actor_mailbox_max", "gauge",
         "Deepest mailbox seen per actor kind in the last window.");
  for (auto& [kind, v] : actors)
    out << "switchboard_actor_mailbox_max{kind=\"" << std::string_view{kind}
        << "\"} " << v.at("mailbox_max") << '\n';
  metric("switchboard_connections", "gauge", "Open connections by transport.");
  for (const char* transport : {"http", "ws", "sse"})
    out << "switchboard_connections{transport=\"" << transport << "\"} "
        << doc["connections"].at(transport) << '\n';
  for (const char* name : {"hits", "misses", "stale", "coalesced", "db_fetches",
                           "evictions", "redis_errors"}) {
    auto full = std::string{"switchboard_cache_"} + name + "_total";
    metric(full.c_str(), "counter", "Cache outcome counter (see /stats).");
    out << full << ' ' << doc["cache"].at(name) << '\n';
  }
  for (const char* name : {"received", "delivered", "dropped"}) {
    auto full = std::string{"switchboard_pubsub_"} + name + "_total";
    metric(full.c_str(), "counter", "Pub/Sub message counter (see /stats).");
    out << full << ' ' << doc["pubsub"].at(name) << '\n';
  }
  for (const char* name : {"jobs_done", "batches", "notified", "failures"}) {
    auto full = std::string{"switchboard_fanout_"} + name + "_total";
    metric(full.c_str(), "counter",
           "New-chapter fan-out counter (see /stats).");
    out << full << ' ' << doc["fanout"].at(name) << '\n';
  }
  metric("switchboard_fanout_running", "gauge",
         "Fan-out jobs this node is working on.");
  out << "switchboard_fanout_running " << doc["fanout"].at("running") << '\n';
  metric("switchboard_cache_entries", "gauge",
         "Values in the node-local cache.");
  out << "switchboard_cache_entries " << doc["cache"].at("entries") << '\n';
  metric("switchboard_cache_l1_bytes", "gauge",
         "Bytes held by the node-local cache.");
  out << "switchboard_cache_l1_bytes " << doc["cache"].at("l1_bytes") << '\n';
  metric("switchboard_uptime_seconds", "gauge", "Seconds since start.");
  out << "switchboard_uptime_seconds " << doc["uptime_s"] << '\n';
  http_response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = out.str();
  call.respond(std::move(response));
}

} // namespace switchboard::http

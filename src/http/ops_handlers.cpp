// ops_handlers — the contract's Operations endpoints: /healthz, /readyz,
// /stats (admin key), /metrics (Prometheus text). They read node_stats and
// probe the dependencies; they change nothing.
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/admin_page.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/sessions.hpp"
#include "src/http/stats_document.hpp"
#include "src/http/times.hpp"
#include "src/live/cluster.hpp"
#include "src/store/health.hpp"

#include <boost/beast/core/detail/base64.hpp>
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

} // namespace

void get_healthz(route_call& call) {
  call.respond(json_response({{"status", "ok"}}));
}

void get_readyz(route_call& call) {
  // Ask every dependency at once; answer when all have spoken. A node with
  // a Redis of its own for the cache (redis_cache_url) names it apart as
  // "redis_cache".
  struct probe {
    responder respond;
    bool own_cache_redis = false;
    int pending = 2;
    bool redis_ok = false;
    bool cache_ok = true;
    bool postgres_ok = false;
    void done() {
      if (--pending > 0)
        return;
      boost::json::object body{{"redis", redis_ok ? "ok" : "down"}};
      if (own_cache_redis)
        body["redis_cache"] = cache_ok ? "ok" : "down";
      body["postgres"] = postgres_ok ? "ok" : "down";
      if (redis_ok && cache_ok && postgres_ok) {
        respond(json_response(body));
        return;
      }
      std::vector<std::string> down;
      if (!redis_ok)
        down.push_back("redis");
      if (!cache_ok)
        down.push_back("redis cache");
      if (!postgres_ok)
        down.push_back("postgres");
      std::string names = down[0];
      for (size_t i = 1; i < down.size(); ++i)
        names += (i + 1 == down.size() ? " and " : ", ") + down[i];
      auto response = unavailable(names + " not answering");
      body["error"] = {{"code", "unavailable"},
                       {"message", names + " not answering"}};
      response.body = boost::json::serialize(body);
      respond(std::move(response));
    }
  };
  auto state = std::make_shared<probe>(probe{call.respond});
  auto timeout = std::chrono::milliseconds{call.node->config->redis_timeout_ms};
  // Ready only once the Pub/Sub subscription is confirmed: before that the
  // node would miss pushes, invalidations and "fill" wake-ups.
  auto ping = [&](const caf::actor& bridge, bool probe::*ok,
                  std::atomic<bool> node_stats::*subscribed) {
    call.self
        ->request(bridge, timeout, redis_cmd_atom::value, redis_command{"PING"})
        .then(
            [state, ok, subscribed,
             stats = call.node->stats](redis_reply& reply) {
              (*state).*ok = reply.ok() && ((*stats).*subscribed).load();
              state->done();
            },
            [state](caf::error&) { state->done(); });
  };
  ping(call.node->redis_bridge, &probe::redis_ok, &node_stats::pubsub_up);
  if (call.node->cache_redis_bridge) {
    state->own_cache_redis = true;
    state->cache_ok = false;
    ++state->pending;
    ping(call.node->cache_redis_bridge, &probe::cache_ok,
         &node_stats::cache_pubsub_up);
  }
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

namespace {

/// True for a request with the admin key (X-Admin-Key, or HTTP Basic with
/// the key as password); answers 401/403 otherwise.
bool admin_authorized(route_call& call) {
  const auto& key = call.node->config->admin_key;
  if (key.empty()) {
    call.respond(error_response(403, "forbidden",
                                "no admin key is configured on this node"));
    return false;
  }
  if (auto given = call.request.header("x-admin-key");
      given && same_secret(*given, key))
    return true;
  // Browsers (the /admin page) send HTTP Basic: any user, the key as password.
  if (auto auth = call.request.header("authorization");
      auth && auth->size() > 6 && auth->substr(0, 6) == "Basic ") {
    auto encoded = auth->substr(6);
    auto unpadded = encoded.size();
    while (unpadded > 0 && encoded[unpadded - 1] == '=')
      --unpadded; // the decoder stops at the padding (and needs it)
    std::string decoded(
        boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
    auto [written, read] = boost::beast::detail::base64::decode(
        decoded.data(), encoded.data(), encoded.size());
    decoded.resize(written);
    auto colon = decoded.find(':');
    if (read == unpadded && colon != std::string::npos &&
        same_secret(std::string_view{decoded}.substr(colon + 1), key))
      return true;
  }
  auto refused =
      error_response(401, "unauthorized", "X-Admin-Key missing or wrong");
  refused.with("WWW-Authenticate",
               "Basic realm=\"switchboard admin\", charset=\"UTF-8\"");
  call.respond(std::move(refused));
  return false;
}

/// Reads the cluster view; `then(nodes)` gets [node id, last seen ms, stats
/// JSON] triples, or nothing when Redis cannot be asked.
void read_cluster(route_call& call,
                  std::function<void(const std::vector<redis_reply>&)> then) {
  const auto& cfg = *call.node->config;
  call.self
      ->request(
          call.node->redis_bridge,
          std::chrono::milliseconds{cfg.redis_timeout_ms},
          redis_cmd_atom::value,
          live::cluster_read_command(cfg.redis_key_prefix, cfg.node_ttl_ms))
      .then(
          [then](redis_reply& reply) {
            if (reply.type == redis_reply::kind::array)
              then(reply.elements);
            else
              then({});
          },
          [then](caf::error&) { then({}); });
}

int64_t reply_integer(const redis_reply& r) {
  if (r.type == redis_reply::kind::integer)
    return r.integer;
  try {
    return static_cast<int64_t>(std::stod(r.str));
  } catch (const std::exception&) {
    return 0;
  }
}

} // namespace

void get_stats(route_call& call) {
  if (!admin_authorized(call))
    return;
  auto respond = call.respond;
  auto node = call.node;
  read_cluster(call, [respond, node](const std::vector<redis_reply>& triples) {
    auto doc = stats_document(*node);
    boost::json::array nodes;
    bool self_listed = false;
    for (size_t i = 0; i + 2 < triples.size(); i += 3) {
      boost::system::error_code ec;
      auto other = boost::json::parse(triples[i + 2].str, ec);
      auto connections =
          ec ? int64_t{0}
             : other.at("connections").at("ws").to_number<int64_t>() +
                   other.at("connections").at("sse").to_number<int64_t>();
      self_listed |= triples[i].str == node->config->node_id;
      nodes.push_back(
          {{"node_id", triples[i].str},
           {"connections", connections},
           {"last_seen", rfc3339_ms(reply_integer(triples[i + 1]))}});
    }
    if (!self_listed) // Redis away, or before our first heartbeat
      nodes.push_back(
          {{"node_id", node->config->node_id},
           {"connections", doc.at("connections").at("ws").as_int64() +
                               doc.at("connections").at("sse").as_int64()},
           {"last_seen", now_rfc3339()}});
    doc["cluster"] = {{"nodes", std::move(nodes)}};
    respond(json_response(doc));
  });
}

void get_cluster_stats(route_call& call) {
  if (!admin_authorized(call))
    return;
  auto respond = call.respond;
  auto node = call.node;
  read_cluster(call, [respond, node](const std::vector<redis_reply>& triples) {
    boost::json::array nodes;
    bool self_listed = false;
    for (size_t i = 0; i + 2 < triples.size(); i += 3) {
      boost::system::error_code ec;
      auto doc = boost::json::parse(triples[i + 2].str, ec);
      if (ec || !doc.is_object())
        continue;
      self_listed |= triples[i].str == node->config->node_id;
      doc.as_object()["last_seen"] = rfc3339_ms(reply_integer(triples[i + 1]));
      nodes.push_back(std::move(doc));
    }
    if (!self_listed) {
      auto doc = stats_document(*node);
      doc["last_seen"] = now_rfc3339();
      nodes.push_back(std::move(doc));
    }
    respond(json_response(boost::json::object{{"at", now_rfc3339()},
                                              {"nodes", std::move(nodes)}}));
  });
}

void get_admin(route_call& call) {
  if (!admin_authorized(call))
    return;
  http_response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = admin_page_html();
  page.with("Cache-Control", "no-store");
  page.with("Content-Security-Policy",
            "default-src 'self'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'");
  call.respond(std::move(page));
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
  for (const char* name :
       {"received", "delivered", "dropped", "offsets_went_back"}) {
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
  for (const char* name : {"repaired", "unrepaired"}) {
    auto full = std::string{"switchboard_feeds_"} + name + "_total";
    metric(full.c_str(), "counter",
           "Notification feeds dropped for repair (see /stats).");
    out << full << ' ' << doc["feeds"].at(name) << '\n';
  }
  metric("switchboard_feeds_suspect", "gauge",
         "Notification feeds waiting to be dropped for repair.");
  out << "switchboard_feeds_suspect " << doc["feeds"].at("suspect") << '\n';
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

// node — see node.hpp.
#include "src/node/node.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/node_context.hpp"

#include "actors/cache/cache.hpp"
#include "actors/channel_registry/channel_registry.hpp"
#include "actors/connection/connection.hpp"
#include "actors/db_pool/db_pool.hpp"
#include "actors/fanout/fanout.hpp"
#include "actors/feed_keeper/feed_keeper.hpp"
#include "actors/redis_bridge/redis_bridge.hpp"
#include "actors/user_registry/user_registry.hpp"
#include "src/http/io_routes.hpp"
#include "src/http/static_site.hpp"
#include "src/http/stats_document.hpp"
#include "src/live/anonymous_subscriptions.hpp"
#include "src/live/cluster.hpp"
#include "src/loops/event_loops.hpp"
#include "src/net/delivery_lane.hpp"
#include "src/net/hot_responses.hpp"
#include "src/net/listener.hpp"
#include "src/net/unauthenticated_requests.hpp"
#include "src/redis/redis_connection.hpp"
#include "src/store/migrations.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <future>
#include <optional>
#include <thread>

namespace switchboard {

namespace asio = boost::asio;

namespace {

/// libpq waits for ever on an unreachable host unless told otherwise.
std::string with_connect_timeout(std::string url) {
  if (url.find("connect_timeout") != std::string::npos)
    return url;
  url += url.find('?') == std::string::npos ? "?" : "&";
  return url + "connect_timeout=3";
}

bool migrate(const node_config& config) {
  try {
    store::apply_migrations(with_connect_timeout(config.database_url));
    return true;
  } catch (const std::exception& e) {
    spdlog::critical("migrations failed: {}", e.what());
    return false;
  }
}

/// Runs `fn` every `period` on an event loop while the node runs.
class periodic_task {
public:
  periodic_task(asio::io_context& io, std::chrono::milliseconds period,
                std::function<void()> fn)
      : timer_(io), period_(period), fn_(std::move(fn)) {
    arm();
  }

  /// On its loop: no more runs (a run already queued returns at once).
  void cancel() {
    stopped_ = true;
    timer_.cancel();
  }

private:
  void arm() {
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_)
        return; // cancelled: the task is going away
      fn_();
      arm();
    });
  }

  asio::steady_timer timer_;
  std::chrono::milliseconds period_;
  std::function<void()> fn_;
  bool stopped_ = false;
};

using ms = std::chrono::milliseconds;

/// The Redis servers a node talks to: the state's, and the cache's own when
/// redis_cache_url names another (docs/operations.md, "Redis keys and
/// memory": one that evicts, apart from the state that must not be).
struct redis_endpoints {
  redis::endpoint state;
  std::optional<redis::endpoint> cache;
};

std::optional<redis_endpoints> parse_redis_urls(const node_config& config) {
  std::string error;
  auto state = redis::parse_url(config.redis_url, error);
  if (!state) {
    spdlog::critical("redis_url '{}': {}", config.redis_url, error);
    return std::nullopt;
  }
  redis_endpoints out{*state, std::nullopt};
  if (!config.redis_cache_url.empty() &&
      config.redis_cache_url != config.redis_url) {
    out.cache = redis::parse_url(config.redis_cache_url, error);
    if (!out.cache) {
      spdlog::critical("redis_cache_url '{}': {}", config.redis_cache_url,
                       error);
      return std::nullopt;
    }
  }
  return out;
}

/// A command and a Pub/Sub connection to one Redis, on the io threads.
struct redis_pair {
  std::shared_ptr<redis::connection> commands, subscriber;
};

redis_pair connect_redis(asio::io_context& io, const redis::endpoint& where,
                         const std::string& name, const node_config& config) {
  auto timeout = ms{config.redis_timeout_ms};
  return {std::make_shared<redis::connection>(
              io, where,
              redis::connection::options{name + "(commands)", timeout, ms{2000},
                                         false}),
          std::make_shared<redis::connection>(
              io, where,
              redis::connection::options{name + "(pubsub)", timeout, ms{2000},
                                         true})};
}

caf::actor spawn_bridge(caf::actor_system& system,
                        const std::shared_ptr<node_stats>& stats,
                        const redis_pair& links, const node_config& config,
                        const std::string& probe_suffix, bool for_cache) {
  redis_bridge_config bridging{
      config.redis_max_pending,
      config.redis_key_prefix + "n:" + config.node_id + probe_suffix, ms{1000},
      ms{std::max<uint32_t>(3000, 3 * config.redis_timeout_ms)},
      ms{config.redis_timeout_ms}};
  if (for_cache) {
    bridging.redis_up = &node_stats::cache_redis_up;
    bridging.pubsub_up = &node_stats::cache_pubsub_up;
  }
  return spawn_redis_bridge(system, stats, links.commands, links.subscriber,
                            bridging);
}

/// The node-level actors, in the order they are spawned.
struct node_actors {
  caf::actor bridge;       // the state's Redis
  caf::actor cache_bridge; // the cache's: `bridge` unless it has its own
  caf::actor pool;
  caf::actor cache;
  caf::actor channels;
  caf::actor users;
  caf::actor feed_keeper;
  caf::actor fanout;
  bool own_cache_bridge = false;
};

cache_config cache_settings(const node_config& config, const node_actors& a) {
  cache_config caching;
  caching.redis_bridge = a.cache_bridge;
  caching.db_pool = a.pool;
  caching.node_id = config.node_id;
  caching.key_prefix = config.redis_key_prefix;
  caching.redis_timeout = ms{config.redis_timeout_ms};
  caching.db_timeout = ms{config.db_timeout_ms};
  caching.lease_wait = ms{config.cache_lease_wait_ms};
  caching.soft_timeout = ms{config.cache_soft_timeout_ms};
  caching.ack_timeout = ms{config.cache_ack_timeout_ms};
  caching.outage_ttl = ms{config.cache_outage_ttl_ms};
  caching.l1_max_entries = config.cache_l1_max_entries;
  caching.l1_max_bytes = config.cache_l1_max_bytes;
  caching.ttl_jitter_percent = config.cache_ttl_jitter_percent;
  caching.group_members_max = config.cache_group_members_max;
  return caching;
}

fanout_config fanout_settings(const node_config& config, const node_actors& a) {
  fanout_config fanning;
  fanning.feed_keeper = a.feed_keeper;
  fanning.db_pool = a.pool;
  fanning.redis_bridge = a.bridge;
  fanning.node_id = config.node_id;
  fanning.key_prefix = config.redis_key_prefix;
  fanning.batch_size = config.fanout_batch_size;
  fanning.lease_s = config.fanout_lease_s;
  fanning.poll = ms{config.fanout_poll_ms};
  fanning.db_timeout = ms{config.db_timeout_ms};
  fanning.redis_timeout = ms{config.redis_timeout_ms};
  fanning.history =
      live::history_settings{config.channel_history_size,
                             int64_t{config.channel_history_ttl_s} * 1000};
  return fanning;
}

/// Spawns every node-level actor; `hot`, when set, hears the cache's
/// changes (the hot responses of every loop).
node_actors spawn_node_actors(caf::actor_system& system,
                              const std::shared_ptr<node_stats>& stats,
                              const node_config& config,
                              const redis_pair& state_links,
                              const std::optional<redis_pair>& cache_links,
                              std::shared_ptr<cache_listener> hot) {
  node_actors a;
  a.bridge = spawn_bridge(system, stats, state_links, config, ":probe", false);
  // The cache's bridge: everything the cache does (values, versions,
  // leases, its invalidation Pub/Sub) goes to one instance, this one.
  a.cache_bridge = a.bridge;
  if (cache_links) {
    a.cache_bridge =
        spawn_bridge(system, stats, *cache_links, config, ":probe-cache", true);
    a.own_cache_bridge = true;
  }
  a.pool = spawn_db_pool(
      system, stats,
      db_pool_config{db_worker_config{with_connect_timeout(config.database_url),
                                      ms{config.db_timeout_ms},
                                      ms{config.fault_db_delay_ms}},
                     config.db_pool_size,
                     config.db_queue_limit,
                     config.auth_hash_concurrency,
                     ms{config.auth_hash_queue_ms},
                     {}});
  auto caching = cache_settings(config, a);
  caching.listener = std::move(hot);
  a.cache = spawn_cache(system, stats, std::move(caching));
  live::presence_settings presence{config.redis_key_prefix, config.node_id,
                                   config.presence_ttl_ms};
  a.channels = spawn_channel_registry(
      system, stats,
      channel_registry_config{
          a.bridge, config.redis_key_prefix, ms{config.redis_timeout_ms},
          live::history_settings{config.channel_history_size,
                                 int64_t{config.channel_history_ttl_s} * 1000},
          presence, ms{config.presence_refresh_ms}});
  a.users = spawn_user_registry(
      system, stats,
      user_registry_config{a.bridge, config.redis_key_prefix,
                           ms{config.redis_timeout_ms}, presence,
                           ms{config.presence_refresh_ms},
                           ms{config.session_check_ms}});
  a.feed_keeper = spawn_feed_keeper(
      system, stats,
      feed_keeper_config{a.bridge, config.redis_key_prefix,
                         ms{config.redis_timeout_ms}, ms{1000},
                         config.notification_feed_repair_max});
  a.fanout = spawn_fanout(system, stats, fanout_settings(config, a));
  return a;
}

/// Ends the node-level actors (the last user of the bridges goes first).
void stop_node_actors(const node_actors& a) {
  for (auto* actor : {&a.cache, &a.channels, &a.users, &a.fanout,
                      &a.feed_keeper, &a.pool, &a.bridge})
    caf::anon_send_exit(*actor, caf::exit_reason::user_shutdown);
  if (a.own_cache_bridge)
    caf::anon_send_exit(a.cache_bridge, caf::exit_reason::user_shutdown);
}

/// What every connection actor is handed (see node_context.hpp).
node_context_ptr make_node_context(const node_config& config,
                                   std::shared_ptr<node_stats> stats,
                                   const node_actors& a) {
  auto context = std::make_shared<node_context>();
  context->config = std::make_shared<const node_config>(config);
  context->stats = std::move(stats);
  context->cache = a.cache;
  context->db_pool = a.pool;
  context->redis_bridge = a.bridge;
  if (a.own_cache_bridge)
    context->cache_redis_bridge = a.cache_bridge;
  context->channels = a.channels;
  context->users = a.users;
  context->fanout = a.fanout;
  context->feed_keeper = a.feed_keeper;
  context->connections = std::make_shared<connection_tracker>();
  context->anonymous_subscriptions =
      std::make_shared<live::anonymous_subscriptions>(
          config.anon_subscriptions_per_ip);
  std::string error;
  context->site =
      http::static_site::load(config.web_root, config.web_max_bytes, error);
  if (!error.empty())
    spdlog::error("web app not served: {}", error);
  else if (!context->site->empty())
    spdlog::info("serving the web app: {} files from {}", context->site->size(),
                 config.web_root);
  context->started = std::chrono::steady_clock::now();
  return context;
}

/// What the sessions of each loop share, touched only on that loop: its
/// delivery lane, and its hot responses when they are on.
struct loop_parts {
  std::vector<std::shared_ptr<net::io_delivery_lane>> lanes;
  std::vector<std::shared_ptr<net::hot_responses>> hot; // empty: off
};

loop_parts make_loop_parts(const std::vector<asio::io_context*>& loops,
                           const node_config& config,
                           const std::shared_ptr<node_stats>& stats) {
  loop_parts parts;
  bool hot = config.cache_hot_max_entries > 0 &&
             config.cache_hot_max_bytes > 0 && config.cache_hot_max_age_ms > 0;
  for (auto* loop : loops) {
    parts.lanes.push_back(std::make_shared<net::io_delivery_lane>(
        loop->get_executor(), ms{config.live_coalesce_max_ms}));
    if (hot)
      parts.hot.push_back(std::make_shared<net::hot_responses>(
          loop->get_executor(), config.cache_hot_max_entries,
          config.cache_hot_max_bytes, ms{config.cache_hot_max_age_ms}, stats));
  }
  return parts;
}

std::shared_ptr<net::listener>
make_listener(std::vector<asio::io_context*> loops, caf::actor_system& system,
              const node_config& config, const node_context_ptr& node,
              std::shared_ptr<redis::connection> redis_commands,
              const loop_parts& parts) {
  net::http_limits limits{
      config.max_header_bytes,       config.max_body_bytes,
      ms{config.request_timeout_ms}, ms{config.idle_timeout_ms},
      config.ws_max_frame_bytes,     config.live_max_queue,
      config.live_max_queue_bytes,   config.live_frame_rate,
      config.live_frame_burst};
  auto routes =
      std::make_shared<http::node_io_routes>(node, std::move(redis_commands));
  auto unauthenticated = std::make_shared<net::unauthenticated_requests>(
      config.anon_requests_per_ip, config.anon_requests_burst,
      config.anon_addresses_max);
  std::vector<net::session_services> services;
  for (std::size_t i = 0; i < loops.size(); ++i)
    services.push_back(net::session_services{
        parts.lanes[i], routes, parts.hot.empty() ? nullptr : parts.hot[i],
        unauthenticated});
  return std::make_shared<net::listener>(
      std::move(loops), limits, config.max_connections,
      config.max_connections_per_ip, node->stats, std::move(services),
      [&system, node](http_sink_ptr sink, const std::string& address) {
        return spawn_connection(system, node, std::move(sink), address);
      });
}

/// Drain: no new connections; HTTP ones finish what is in flight; live ones
/// are told 1001 (their clients reconnect elsewhere and resume), within
/// shutdown_grace_ms. Then sessions and channels retire (sending their
/// presence leaves), briefly waited for.
void drain(net::listener& http, const node_context& node,
           const node_config& config) {
  http.drain();
  for (auto& addr : node.connections->snapshot())
    caf::anon_send(caf::actor_cast<caf::actor>(addr), drain_atom::value);
  auto deadline =
      std::chrono::steady_clock::now() + ms{config.shutdown_grace_ms};
  auto open_connections = [&] {
    return std::max(http.session_count(), node.connections->size());
  };
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(ms{20});
  if (auto left = open_connections(); left > 0)
    spdlog::warn("shutdown: {} connections still open after the grace period",
                 left);
  auto retiring = [&] {
    return node.stats->of(actor_kind::user).count.load() > 0 ||
           node.stats->of(actor_kind::channel).count.load() > 0;
  };
  auto settle = std::chrono::steady_clock::now() + std::chrono::seconds{1};
  while (retiring() && std::chrono::steady_clock::now() < settle)
    std::this_thread::sleep_for(ms{10});
}

/// Leaves the cluster view now rather than when the entry ages out.
void leave_cluster_view(caf::actor_system& system, const caf::actor& bridge,
                        const node_config& config) {
  caf::scoped_actor self{system};
  self->request(bridge, ms{config.redis_timeout_ms}, redis_cmd_atom::value,
                live::heartbeat_leave_command(config.redis_key_prefix,
                                              config.node_id))
      .receive([](redis_reply&) {}, [](caf::error&) {});
}

/// Runs `fn` on `loop` and waits until it ran.
void on_loop_and_wait(asio::io_context& loop, std::function<void()> fn) {
  std::promise<void> ran;
  asio::post(loop, [&] {
    fn();
    ran.set_value();
  });
  ran.get_future().wait();
}

/// Closes the Redis connections on their strands and waits until they
/// have, so hiredis frees its contexts before the io threads stop.
void close_redis(const std::vector<std::shared_ptr<redis::connection>>& all) {
  std::vector<std::shared_ptr<std::promise<void>>> closed;
  for (auto& connection : all) {
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done);
    connection->stop([done] { done->set_value(); });
  }
  for (auto& done : closed)
    if (done->get_future().wait_for(std::chrono::seconds{2}) !=
        std::future_status::ready)
      spdlog::warn("shutdown: a Redis connection did not close in time");
}

} // namespace

int migrate_only(const node_config& config) {
  return migrate(config) ? 0 : 1;
}

// The start, then the stop, in the order they happen.
int run_node(const node_config& config) {
  if (config.migrate_on_start && !migrate(config))
    return 1;
  auto endpoints = parse_redis_urls(config);
  if (!endpoints)
    return 2;

  // The actors run on the event loops that run the sockets (src/loops):
  // the loops start with the actor system and stop with it, once every
  // actor is done. Loop 0 also runs the acceptor, Redis and the timers.
  caf::actor_system_config caf_config;
  loops::loop_coordinator::install(caf_config, config.io_threads,
                                   config.actor_max_throughput);
  caf_config.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{caf_config};
  auto* coordinator = loops::loop_coordinator::of(system);
  std::vector<asio::io_context*> loops;
  for (std::size_t i = 0; i < coordinator->size(); ++i)
    loops.push_back(&coordinator->loop(i).io());
  auto& io = *loops.front();
  auto stats = std::make_shared<node_stats>();

  auto state_links = connect_redis(io, endpoints->state, "redis", config);
  std::optional<redis_pair> cache_links;
  if (endpoints->cache)
    cache_links = connect_redis(io, *endpoints->cache, "redis-cache", config);
  std::vector<std::shared_ptr<redis::connection>> all_links{
      state_links.commands, state_links.subscriber};
  if (cache_links) {
    all_links.push_back(cache_links->commands);
    all_links.push_back(cache_links->subscriber);
  }
  // Each loop's delivery lane and hot responses rely on that loop's FIFO
  // queue (delivery_lane.hpp, hot_responses.hpp).
  auto parts = make_loop_parts(loops, config, stats);
  std::shared_ptr<cache_listener> hot;
  if (!parts.hot.empty())
    hot = std::make_shared<net::hot_responses_of_loops>(parts.hot);
  auto actors =
      spawn_node_actors(system, stats, config, state_links, cache_links, hot);
  auto node = make_node_context(config, stats, actors);

  auto http =
      make_listener(loops, system, config, node, state_links.commands, parts);
  uint16_t port = 0;
  try {
    port = http->bind(config.http_host, config.http_port);
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}:{}: {}", config.http_host,
                     config.http_port, e.what());
    stop_node_actors(actors);
    close_redis(all_links);
    return 3;
  }
  http->run();
  if (!config.port_file.empty()) {
    std::ofstream{config.port_file + ".tmp"} << port << '\n';
    std::rename((config.port_file + ".tmp").c_str(), config.port_file.c_str());
  }
  spdlog::info("node {} listening on http://{}:{}", config.node_id,
               config.http_host, port);

  periodic_task rotate_mailbox_window{io, std::chrono::seconds{10}, [stats] {
                                        stats->rotate_mailbox_window();
                                      }};
  // The cluster view: this node's stats in Redis for /stats and /admin on
  // every node. Fire and forget: a missed beat only ages the entry.
  periodic_task heartbeat{
      io, ms{config.heartbeat_ms}, [&config, node, bridge = actors.bridge] {
        caf::anon_send(bridge, redis_cmd_atom::value,
                       live::heartbeat_command(
                           config.redis_key_prefix, config.node_id,
                           boost::json::serialize(http::stats_document(*node)),
                           config.node_ttl_ms));
      }};

  // Stop on SIGTERM/SIGINT: drain, then stop the io threads.
  asio::signal_set signals{io, SIGTERM, SIGINT};
  std::promise<void> stop_requested;
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (!ec) {
      spdlog::info("signal {}: draining", signal);
      stop_requested.set_value();
    }
  });
  stop_requested.get_future().wait();

  drain(*http, *node, config);
  leave_cluster_view(system, actors.bridge, config);
  stop_node_actors(actors);
  close_redis(all_links);
  // The loops keep running until the last actor is done; what would keep
  // them busy for ever stops now, on loop 0, where it runs.
  on_loop_and_wait(io, [&] {
    signals.cancel();
    heartbeat.cancel();
    rotate_mailbox_window.cancel();
  });
  // Each lane stops ticking on its own loop.
  for (std::size_t i = 0; i < loops.size(); ++i)
    on_loop_and_wait(*loops[i], [&parts, i] { parts.lanes[i]->stop(); });
  // Handlers that were already queued (a timer that had just expired, the
  // cancelled signal wait) run before this, while what they use exists.
  on_loop_and_wait(io, [] {});
  http->abandon_all(); // tells each leftover connection actor to quit
  for (auto& addr : node->connections->snapshot())
    caf::anon_send_exit(addr, caf::exit_reason::user_shutdown);
  spdlog::info("node {} stopped", config.node_id);
  return 0;
  // ~actor_system waits for every actor, then stops the loops.
}

} // namespace switchboard

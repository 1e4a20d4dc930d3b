// config — see include/switchboard/config.hpp. One table below names every
// key once, with its help text and how to store it; the file, the
// environment and the flags all go through it, so the three can never
// disagree about what a key means. The file is read with Boost.PropertyTree's
// INI parser.
#include "switchboard/config.hpp"

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <sched.h>
#include <sstream>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace switchboard {

namespace {

using setter = std::function<bool(node_config&, const std::string&)>;

struct option {
  const char* key;
  const char* help;
  setter set;
};

template <class Int>
setter integer(Int node_config::*member, long long min, long long max) {
  return [=](node_config& cfg, const std::string& text) {
    long long value = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max)
      return false;
    cfg.*member = static_cast<Int>(value);
    return true;
  };
}

setter text(std::string node_config::*member) {
  return [=](node_config& cfg, const std::string& value) {
    cfg.*member = value;
    return true;
  };
}

setter boolean(bool node_config::*member) {
  return [=](node_config& cfg, const std::string& value) {
    if (value == "true" || value == "1" || value == "yes" || value == "on")
      cfg.*member = true;
    else if (value == "false" || value == "0" || value == "no" ||
             value == "off")
      cfg.*member = false;
    else
      return false;
    return true;
  };
}

setter one_of(std::string node_config::*member,
              std::vector<std::string> allowed) {
  return [=](node_config& cfg, const std::string& value) {
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
      return false;
    cfg.*member = value;
    return true;
  };
}

const std::vector<option>& options() {
  using C = node_config;
  static const std::vector<option> all{
      {"node_id",
       "this node's name in /stats and the cluster (default: host-pid)",
       text(&C::node_id)},
      {"http_host", "address to listen on", text(&C::http_host)},
      {"http_port", "port to listen on (0: any free port)",
       integer(&C::http_port, 0, 65535)},
      {"port_file", "write the bound port to this file once listening",
       text(&C::port_file)},
      {"io_threads",
       "event loops: each runs its sockets, its actors and their timers on "
       "one thread (0: one per core)",
       integer(&C::io_threads, 0, 64)},
      {"actor_max_throughput",
       "messages an actor handles before it yields its loop to the sockets "
       "and actors behind it",
       integer(&C::actor_max_throughput, 1, 1'000'000)},
      {"max_header_bytes", "largest request header accepted (413 above)",
       integer(&C::max_header_bytes, 1024, 1 << 20)},
      {"max_body_bytes", "largest request body accepted (413 above)",
       integer(&C::max_body_bytes, 1024, 64 << 20)},
      {"request_timeout_ms", "a started request must arrive within this",
       integer(&C::request_timeout_ms, 100, 600'000)},
      {"idle_timeout_ms", "an idle keep-alive connection is closed after this",
       integer(&C::idle_timeout_ms, 100, 3'600'000)},
      {"max_connections",
       "open connections per node (HTTP, WebSocket and SSE); more are refused",
       integer(&C::max_connections, 1, 1'000'000)},
      {"max_connections_per_ip",
       "open connections from one client address; 0 turns the limit off "
       "(behind a balancer every client has its address: limit there)",
       integer(&C::max_connections_per_ip, 0, 1'000'000)},
      {"anon_requests_per_ip",
       "HTTP requests per second one client address (IPv6: its /64) may make "
       "without a credential, and answered 401 (429 above); 0 turns the "
       "limit off (behind a balancer every client has its address)",
       integer(&C::anon_requests_per_ip, 0, 1'000'000)},
      {"anon_requests_burst",
       "how many of those one address may make at once after a pause",
       integer(&C::anon_requests_burst, 1, 10'000'000)},
      {"anon_addresses_max",
       "client addresses whose unauthenticated requests are counted at once "
       "(past it, new addresses go uncounted until old ones refill)",
       integer(&C::anon_addresses_max, 1, 10'000'000)},
      {"anon_subscriptions_per_ip",
       "live subscriptions anonymous clients from one address (IPv6: its "
       "/64) may hold on a node, across connections; 0: no limit (behind a "
       "balancer)",
       integer(&C::anon_subscriptions_per_ip, 0, 100'000'000)},
      {"redis_url", "redis://[:password@]host[:port][/db]",
       text(&C::redis_url)},
      {"redis_cache_url",
       "the cache's own Redis (run it with maxmemory-policy allkeys-lru); "
       "empty: the cache shares redis_url",
       text(&C::redis_cache_url)},
      {"redis_key_prefix", "prefix of every Redis key this node writes",
       text(&C::redis_key_prefix)},
      {"redis_timeout_ms", "deadline of one Redis command",
       integer(&C::redis_timeout_ms, 10, 60'000)},
      {"redis_max_pending", "Redis commands in flight before refusing more",
       integer(&C::redis_max_pending, 1, 10'000'000)},
      {"database_url", "libpq connection URI of PostgreSQL",
       text(&C::database_url)},
      {"db_pool_size", "PostgreSQL connections (one db_worker each)",
       integer(&C::db_pool_size, 1, 256)},
      {"db_queue_limit", "database jobs waiting for a worker before refusing",
       integer(&C::db_queue_limit, 1, 1'000'000)},
      {"db_timeout_ms", "deadline of one database job (statement_timeout too)",
       integer(&C::db_timeout_ms, 10, 600'000)},
      {"migrate_on_start", "apply schema migrations at start",
       boolean(&C::migrate_on_start)},
      {"cache_ttl_s", "seconds a book, chapter or user stays fresh",
       integer(&C::cache_ttl_s, 1, 86'400)},
      {"cache_list_ttl_s",
       "seconds a book list page or chapter list stays fresh",
       integer(&C::cache_list_ttl_s, 1, 86'400)},
      {"cache_packages_ttl_s", "seconds the coin packages stay fresh",
       integer(&C::cache_packages_ttl_s, 1, 86'400)},
      {"cache_negative_ttl_s", "seconds a 404 is remembered",
       integer(&C::cache_negative_ttl_s, 1, 3'600)},
      {"cache_stale_s",
       "after expiry, seconds a value is served stale while one refresh runs",
       integer(&C::cache_stale_s, 0, 86'400)},
      {"cache_grace_s",
       "after expiry, seconds a value may be served stale when the database "
       "fails (fail-safe)",
       integer(&C::cache_grace_s, 0, 20 * 3'600)},
      {"cache_ttl_jitter_percent", "spread of TTLs, +/- this percentage",
       integer(&C::cache_ttl_jitter_percent, 0, 50)},
      {"cache_l1_max_entries", "node-local cache: most entries held",
       integer(&C::cache_l1_max_entries, 0, 100'000'000)},
      {"cache_l1_max_bytes", "node-local cache: most bytes held",
       integer(&C::cache_l1_max_bytes, 0, 64ll << 30)},
      {"cache_lease_wait_ms",
       "how long a node waits for another node's load before loading itself",
       integer(&C::cache_lease_wait_ms, 1, 60'000)},
      {"cache_soft_timeout_ms",
       "a load slower than this answers with the stale value, if any",
       integer(&C::cache_soft_timeout_ms, 1, 60'000)},
      {"cache_ack_timeout_ms",
       "how long a write waits for every node to acknowledge its invalidation",
       integer(&C::cache_ack_timeout_ms, 1, 60'000)},
      {"cache_outage_ttl_ms",
       "while Redis is down, node-local values stay fresh at most this long",
       integer(&C::cache_outage_ttl_ms, 1, 600'000)},
      {"cache_group_members_max",
       "value keys one invalidation group lists in Redis (its m: set); more "
       "are stored unlisted and expire by their TTL",
       integer(&C::cache_group_members_max, 1, 10'000'000)},
      {"ws_max_frame_bytes", "largest WebSocket message accepted (4009 above)",
       integer(&C::ws_max_frame_bytes, 256, 16 << 20)},
      {"live_max_queue",
       "frames queued for one connection (pushes, replies, pongs, history) "
       "before it is cut off (4008, or the SSE stream ends)",
       integer(&C::live_max_queue, 1, 1'000'000)},
      {"live_max_queue_bytes",
       "bytes queued for one connection before it is cut off (4008, or the "
       "SSE stream ends)",
       integer(&C::live_max_queue_bytes, 4096, std::size_t{1} << 30)},
      {"live_new_channels_per_user",
       "collab channels one signed-in user may bring into existence per hour "
       "by client publish (rate_limited above; 0: none)",
       integer(&C::live_new_channels_per_user, 0, 10'000'000)},
      {"cache_hot_max_entries",
       "fresh cache hits the io thread keeps to answer anonymous GETs "
       "without the actors (0: none)",
       integer(&C::cache_hot_max_entries, 0, 10'000'000)},
      {"chapter_list_max",
       "chapters listed by GET /api/books/:id/chapters, by number; a longer "
       "list is cut and says \"truncated\":true (each list is cached whole)",
       integer(&C::chapter_list_max, 1, 1'000'000)},
      {"cache_hot_max_bytes",
       "bytes of those answers the io thread keeps (0: none)",
       integer(&C::cache_hot_max_bytes, 0, std::size_t{1} << 32)},
      {"cache_hot_max_age_ms",
       "longest the io thread reuses one such answer (0: never)",
       integer(&C::cache_hot_max_age_ms, 0, 60'000)},
      {"live_coalesce_max_ms",
       "after a write pass over the connections that took longer than 2 ms, "
       "the next waits up to that long (at most this), gathering frames "
       "(0: never wait)",
       integer(&C::live_coalesce_max_ms, 0, 1000)},
      {"live_max_subscriptions", "channels one connection may subscribe to",
       integer(&C::live_max_subscriptions, 1, 100'000)},
      {"live_publish_rate",
       "client publishes per second per connection (rate_limited above)",
       integer(&C::live_publish_rate, 1, 1'000'000)},
      {"live_publish_burst", "client publishes allowed at once after a pause",
       integer(&C::live_publish_burst, 1, 1'000'000)},
      {"live_frame_rate",
       "client frames per second per connection (closed with 4029 above)",
       integer(&C::live_frame_rate, 1, 1'000'000)},
      {"live_frame_burst", "client frames allowed at once after a pause",
       integer(&C::live_frame_burst, 1, 1'000'000)},
      {"channel_history_size", "newest messages kept per channel for resume",
       integer(&C::channel_history_size, 1, 1'000'000)},
      {"channel_history_ttl_s",
       "a channel's history is dropped this long after its last message",
       integer(&C::channel_history_ttl_s, 1, 30 * 86'400)},
      {"fanout_batch_size",
       "followers notified of a new chapter per transaction",
       integer(&C::fanout_batch_size, 1, 100'000)},
      {"fanout_lease_s",
       "a fan-out job silent this long is taken over by another node",
       integer(&C::fanout_lease_s, 2, 3600)},
      {"fanout_poll_ms", "how often an idle node looks for fan-out work",
       integer(&C::fanout_poll_ms, 10, 600'000)},
      {"notification_feed_ttl_s",
       "a user's notification feed in Redis is rebuilt from PostgreSQL at "
       "least this often",
       integer(&C::notification_feed_ttl_s, 1, 30 * 86'400)},
      {"notification_feed_repair_max",
       "notification feeds a node holds for repair after a failed change",
       integer(&C::notification_feed_repair_max, 1, 10'000'000)},
      {"presence_ttl_ms",
       "a node's users and presence entries expire this long after its last "
       "renewal (a dead node's users vanish within it)",
       integer(&C::presence_ttl_ms, 1000, 600'000)},
      {"presence_refresh_ms",
       "how often a node renews its users' presence (well under the ttl)",
       integer(&C::presence_refresh_ms, 100, 300'000)},
      {"requests_per_token_per_s",
       "authenticated HTTP requests one token may make per second, across "
       "the cluster (429 above); 0: no limit",
       integer(&C::requests_per_token_per_s, 0, 1'000'000)},
      {"session_ttl_s", "session tokens expire after this long unused",
       integer(&C::session_ttl_s, 60, 365 * 86'400)},
      {"session_check_ms",
       "live connections re-check their session token this often: one that "
       "expired or was removed closes them (4001) within this plus "
       "redis_timeout_ms",
       integer(&C::session_check_ms, 100, 3'600'000)},
      {"auth_window_s",
       "the window of the login/register counters, in seconds (fixed: it "
       "starts with the first attempt counted)",
       integer(&C::auth_window_s, 1, 86'400)},
      {"auth_attempts_per_ip",
       "login and register attempts one client address may make per window, "
       "across the cluster (429 above); 0: no limit",
       integer(&C::auth_attempts_per_ip, 0, 10'000'000)},
      {"auth_attempts_per_user",
       "failed logins one username may have per window, across the cluster "
       "(429 above, the right password too); 0: no limit",
       integer(&C::auth_attempts_per_user, 0, 10'000'000)},
      {"auth_hash_concurrency",
       "database workers that may hash passwords at once (at most "
       "db_pool_size - 1, so other jobs always have a worker)",
       integer(&C::auth_hash_concurrency, 1, 256)},
      {"auth_hash_queue_ms",
       "a login or register that waited this long for a hashing slot is "
       "answered 503 without hashing",
       integer(&C::auth_hash_queue_ms, 1, 600'000)},
      {"fault_db_delay_ms",
       "TEST ONLY: delay every database job by this long (fault injection)",
       integer(&C::fault_db_delay_ms, 0, 60'000)},
      {"web_root", "folder of the built demo app served at / (empty: none)",
       text(&C::web_root)},
      {"web_max_bytes", "largest total size of the demo app's files",
       integer(&C::web_max_bytes, 0, 1ll << 30)},
      {"heartbeat_ms", "how often a node writes its stats for the cluster view",
       integer(&C::heartbeat_ms, 100, 600'000)},
      {"node_ttl_ms", "a node silent this long leaves the cluster view",
       integer(&C::node_ttl_ms, 500, 3'600'000)},
      {"api_key", "X-Api-Key for POST /api/publish", text(&C::api_key)},
      {"admin_key", "X-Admin-Key for /stats and /admin", text(&C::admin_key)},
      {"log_level", "trace, debug, info, warn, error or off",
       one_of(&C::log_level,
              {"trace", "debug", "info", "warn", "error", "off"})},
      {"shutdown_grace_ms", "how long SIGTERM waits for in-flight work",
       integer(&C::shutdown_grace_ms, 0, 60'000)},
  };
  return all;
}

const option* find_option(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  for (auto& opt : options())
    if (key == opt.key)
      return &opt;
  return nullptr;
}

void apply(node_config& cfg, const std::string& key, const std::string& value,
           const std::string& source, std::vector<std::string>& errors) {
  auto* opt = find_option(key);
  if (opt == nullptr) {
    errors.push_back(source + ": unknown key '" + key + "'");
    return;
  }
  if (!opt->set(cfg, value))
    errors.push_back(source + ": bad value for " + opt->key + ": '" + value +
                     "' (" + opt->help + ")");
}

std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "node");
  return std::string{host} + "-" + std::to_string(getpid());
}

} // namespace

// A CPU quota without a cpuset is not seen here: set io_threads there.
std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  long count = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    count = CPU_COUNT(&set);
  else
    count = static_cast<long>(std::thread::hardware_concurrency());
  return static_cast<std::size_t>(std::clamp<long>(count, 1, 64));
}

config_load_result load_config(int argc, const char* const* argv) {
  config_load_result result;
  auto& errors = result.errors;
  // The config file: --config=PATH, else SB_CONFIG, else the default if it
  // exists. A file that was asked for explicitly must exist.
  std::string path;
  bool explicit_path = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    if (arg.substr(0, 9) == "--config=") {
      path = std::string{arg.substr(9)};
      explicit_path = true;
    }
  }
  if (!explicit_path) {
    if (auto* env = std::getenv("SB_CONFIG")) {
      path = env;
      explicit_path = true;
    } else {
      path = "config/switchboard.ini";
    }
  }
  try {
    boost::property_tree::ptree tree;
    boost::property_tree::read_ini(path, tree);
    for (auto& [key, node] : tree) {
      if (!node.empty()) {
        errors.push_back(path + ": sections are not used; found [" + key + "]");
        continue;
      }
      apply(result.config, key, node.data(), path, errors);
    }
  } catch (const boost::property_tree::ini_parser_error& e) {
    // A missing default file is fine: defaults and overrides still apply.
    if (explicit_path || e.line() != 0)
      errors.push_back(e.what());
  }
  // Environment: SB_<KEY>.
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view entry{*env};
    if (entry.substr(0, 3) != "SB_")
      continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos)
      continue;
    std::string key{entry.substr(3, eq - 3)};
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (find_option(key) == nullptr)
      continue; // SB_ variables of the scripts (SB_SEED_BOOKS, ...) are not
                // ours
    apply(result.config, key, std::string{entry.substr(eq + 1)},
          "environment SB_" + std::string{entry.substr(3, eq - 3)}, errors);
  }
  // Flags: --key=value, plus the few that are commands.
  for (int i = 1; i < argc; ++i) {
    std::string arg{argv[i]};
    if (arg == "--migrate-only") {
      result.migrate_only = true;
    } else if (arg == "--help" || arg == "-h") {
      result.show_help = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      // handled above
    } else if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      auto eq = arg.find('=');
      apply(result.config, arg.substr(2, eq - 2), arg.substr(eq + 1),
            "flag " + arg.substr(0, eq), errors);
    } else {
      errors.push_back("unexpected argument '" + arg +
                       "' (flags are --key=value)");
    }
  }
  if (result.config.node_id.empty())
    result.config.node_id = default_node_id();
  if (result.config.io_threads == 0)
    result.config.io_threads = usable_cores();
  return result;
}

std::string config_help() {
  std::ostringstream out;
  out << "usage: switchboard [--config=FILE] [--migrate-only] "
         "[--key=value...]\n"
         "Every key may also be set in the config file (key = value) or as\n"
         "the environment variable SB_<KEY>. Keys:\n";
  for (auto& opt : options())
    out << "  " << opt.key << "\n      " << opt.help << '\n';
  return out.str();
}

} // namespace switchboard

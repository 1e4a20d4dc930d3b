// config.hpp — the node's configuration: every key, its type and default.
// Sources, later ones winning: built-in defaults, the config file
// (config/switchboard.ini, flat `key = value`), `SB_<KEY>` environment
// variables, then `--key=value` flags. docs/operations.md lists every key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {

struct node_config {
  // identity and serving
  std::string node_id; // default: hostname-pid
  std::string http_host = "0.0.0.0";
  uint16_t http_port = 8080;
  std::string port_file;      // if set, the bound port is written here
  std::size_t io_threads = 0; // event loops (src/loops); 0: one per core
  std::size_t actor_max_throughput = 300; // messages per turn on its loop

  // HTTP limits
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  uint32_t request_timeout_ms = 10'000; // whole request must arrive in this
  uint32_t idle_timeout_ms = 60'000;    // keep-alive connection idle limit
  std::size_t max_connections = 18'000; // open sockets per node, any kind
  std::size_t max_connections_per_ip = 1'024; // 0: no limit (behind nginx)
  // Requests no credential vouches for, per client address (IPv6: per /64);
  // see src/net/unauthenticated_requests. 0: off (behind a balancer).
  uint32_t anon_requests_per_ip = 100;     // per second
  uint32_t anon_requests_burst = 400;      // a page load and then some
  std::size_t anon_addresses_max = 65'536; // addresses tracked at once
  // Live subscriptions anonymous clients hold per address, across
  // connections. 0: no limit (behind a balancer).
  std::size_t anon_subscriptions_per_ip = 1'024;

  // dependencies
  std::string redis_url = "redis://127.0.0.1:6379";
  // The cache's own Redis (allkeys-lru); empty: the cache shares redis_url.
  std::string redis_cache_url;
  std::string redis_key_prefix = "sb:";
  uint32_t redis_timeout_ms = 1'000;
  std::size_t redis_max_pending = 10'000;
  std::string database_url = "postgresql://postgres@127.0.0.1:5432/switchboard";
  std::size_t db_pool_size = 4;
  std::size_t db_queue_limit = 2'048;
  uint32_t db_timeout_ms = 3'000;
  bool migrate_on_start = true;

  // cache
  uint32_t cache_ttl_s = 300;           // books, chapters, users (default)
  uint32_t cache_list_ttl_s = 60;       // book list pages, chapter lists
  std::size_t chapter_list_max = 1000;  // chapters in one book's list
  uint32_t cache_packages_ttl_s = 3600; // coin packages
  uint32_t cache_negative_ttl_s = 10;
  uint32_t cache_stale_s = 60;   // stale-while-revalidate window
  uint32_t cache_grace_s = 3600; // fail-safe: stale served if the DB fails
  uint32_t cache_ttl_jitter_percent = 10;
  std::size_t cache_l1_max_entries = 100'000;
  std::size_t cache_l1_max_bytes = 64u << 20;
  uint32_t cache_lease_wait_ms = 3'000;
  uint32_t cache_soft_timeout_ms = 500;
  uint32_t cache_ack_timeout_ms = 500;
  uint32_t cache_outage_ttl_ms = 2'000; // L1 freshness while Redis is down
  std::size_t cache_group_members_max = 10'000; // value keys listed per group

  // live updates
  std::size_t ws_max_frame_bytes = 64 * 1024;
  std::size_t live_max_queue = 1024;           // queued frames per connection
  std::size_t live_max_queue_bytes = 1u << 20; // ... and their bytes
  uint32_t live_coalesce_max_ms = 50; // longest wait between write passes
  std::size_t cache_hot_max_entries = 10000;  // io-thread answers kept
  std::size_t cache_hot_max_bytes = 8u << 20; // ... and their bytes
  uint32_t cache_hot_max_age_ms = 1000;       // how long one is reused
  std::size_t live_max_subscriptions = 128;   // channels per connection
  uint32_t live_publish_rate = 10;            // client publishes per second
  uint32_t live_publish_burst = 20; // ... allowed at once after a pause
  uint32_t live_new_channels_per_user = 100; // per hour, by client publish
  uint32_t live_frame_rate = 50;   // client frames per second (4029 above)
  uint32_t live_frame_burst = 100; // ... allowed at once after a pause
  std::size_t channel_history_size = 1000;
  uint32_t channel_history_ttl_s = 24 * 3600;

  // background fan-out of new-chapter notifications
  uint32_t fanout_batch_size = 1000; // followers notified per transaction
  uint32_t fanout_lease_s = 30;      // a job's owner must advance it this often
  uint32_t fanout_poll_ms = 5000;    // how often idle nodes look for work
  // A user's notification feed in Redis is rebuilt from PostgreSQL at least
  // this often (the bound on how long a feed a crash left short stays so).
  uint32_t notification_feed_ttl_s = 300;
  // Feeds a node holds for repair after a failed change (feed_keeper).
  uint32_t notification_feed_repair_max = 100'000;

  // presence: a dead node's users drop out within presence_ttl_ms
  uint32_t presence_ttl_ms = 25'000;
  uint32_t presence_refresh_ms = 10'000;

  // sessions
  uint32_t session_ttl_s = 7 * 24 * 3600; // sliding
  uint32_t requests_per_token_per_s = 50; // authenticated HTTP; 0: no limit
  // Live connections re-check their token this often: one that expired (or
  // was removed without a logout) closes them within this + redis_timeout.
  uint32_t session_check_ms = 30'000;

  // login and register (src/http/auth_limits, actors/db_pool)
  uint32_t auth_window_s = 60;           // the counters' fixed window
  uint32_t auth_attempts_per_ip = 30;    // login + register per address; 0: off
  uint32_t auth_attempts_per_user = 10;  // failed logins per username; 0: off
  std::size_t auth_hash_concurrency = 2; // db workers hashing at once
  uint32_t auth_hash_queue_ms = 2'000;   // a hash job waiting longer: 503

  // test-only fault injection (0: off)
  uint32_t fault_db_delay_ms = 0;

  // the demo web app (built by scripts/run; empty or absent: not served)
  std::string web_root = "web/dist";
  std::size_t web_max_bytes = 32u << 20;

  // the cluster view: each node's stats in Redis
  uint32_t heartbeat_ms = 2'000;
  uint32_t node_ttl_ms = 10'000; // a node silent this long is not listed

  // security and operations
  std::string api_key;
  std::string admin_key;
  std::string log_level = "info";
  uint32_t shutdown_grace_ms = 8'000;
};

/// The outcome of reading the configuration.
struct config_load_result {
  node_config config;
  bool migrate_only = false; // --migrate-only: apply migrations and exit
  bool show_help = false;
  std::vector<std::string> errors; // empty when the configuration is usable
};

/// Reads file, environment (`environ`) and `argv`. Unknown keys and values
/// that do not parse are errors, never silently ignored.
config_load_result load_config(int argc, const char* const* argv);

/// The cores this process may run on (its CPU affinity: taskset, a
/// container's cpuset), within 1..64: what io_threads = 0 resolves to.
std::size_t usable_cores();

/// Describes every key, for --help and docs.
std::string config_help();

} // namespace switchboard

// cluster — the cluster view kept in Redis: every node writes its /stats
// document there every heartbeat_ms, and anyone reads the nodes heard from
// within node_ttl_ms. A node that dies simply stops being listed. Builds
// the Redis commands; callers send them through the redis_bridge.
//
// Keys: nd (hash node id -> stats JSON), ns (zset node id -> last write ms).
#pragma once

#include "switchboard/redis.hpp"

#include <cstdint>
#include <string>

namespace switchboard::live {

/// Stores this node's stats and forgets nodes silent for `ttl_ms`.
redis_command heartbeat_command(const std::string& prefix,
                                const std::string& node_id,
                                const std::string& stats_json, int64_t ttl_ms);

/// Reply: [node id, last seen ms, stats JSON, …] for the nodes heard from
/// within `ttl_ms`, in node id order.
redis_command cluster_read_command(const std::string& prefix, int64_t ttl_ms);

/// Removes this node from the view (a clean shutdown).
redis_command heartbeat_leave_command(const std::string& prefix,
                                      const std::string& node_id);

} // namespace switchboard::live

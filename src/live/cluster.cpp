// cluster — see cluster.hpp.
#include "src/live/cluster.hpp"

#include "src/live/publisher.hpp"

namespace switchboard::live {

namespace {

// KEYS: nd, ns. ARGV: node, json, now, ttl.
constexpr const char* heartbeat_script = R"lua(
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
for _, node in ipairs(gone) do
  redis.call('HDEL', KEYS[1], node)
  redis.call('ZREM', KEYS[2], node)
end
-- Once every node is gone nothing trims the view: let it expire instead.
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
redis.call('PEXPIRE', KEYS[2], 2 * ttl)
return #gone
)lua";

// KEYS: nd, ns. ARGV: now, ttl.
constexpr const char* read_script = R"lua(
local live = redis.call('ZRANGEBYSCORE', KEYS[2], tonumber(ARGV[1]) - tonumber(ARGV[2]), '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  local doc = redis.call('HGET', KEYS[1], live[i])
  if doc then
    out[#out + 1] = live[i]
    out[#out + 1] = live[i + 1]
    out[#out + 1] = doc
  end
end
return out
)lua";

} // namespace

redis_command heartbeat_command(const std::string& prefix,
                                const std::string& node_id,
                                const std::string& stats_json, int64_t ttl_ms) {
  return {"EVAL",
          heartbeat_script,
          "2",
          prefix + "nd",
          prefix + "ns",
          node_id,
          stats_json,
          std::to_string(now_ms()),
          std::to_string(ttl_ms)};
}

redis_command cluster_read_command(const std::string& prefix, int64_t ttl_ms) {
  return {"EVAL",
          read_script,
          "2",
          prefix + "nd",
          prefix + "ns",
          std::to_string(now_ms()),
          std::to_string(ttl_ms)};
}

redis_command heartbeat_leave_command(const std::string& prefix,
                                      const std::string& node_id) {
  return {"EVAL",
          "redis.call('HDEL', KEYS[1], ARGV[1]) "
          "return redis.call('ZREM', KEYS[2], ARGV[1])",
          "2",
          prefix + "nd",
          prefix + "ns",
          node_id};
}

} // namespace switchboard::live

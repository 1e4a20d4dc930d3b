// cache_keys — how the cache names things in Redis, and the Lua scripts
// that make its multi-step operations atomic there. Shared by `cache` and
// `cache_entry`; nothing else may write these keys.
//
//   <prefix>v:<key>    the value: "<fresh_until_ms> <load_ms> <json or !404>"
//   <prefix>g:<group>  the group's version, INCRed by every invalidation
//   <prefix>m:<group>  the set of value keys stored under the group
//   <prefix>l:<key>    the load lease (SET NX PX): one loader in the cluster
//   <prefix>c:events   channel: "fill <key>", "inval <id> <node> <group>..."
//   <prefix>n:<node>   channel: "ack <id>" to the node that invalidated
#pragma once

#include <string>

namespace switchboard::cache_keys {

inline std::string value(const std::string& prefix, const std::string& key) {
  return prefix + "v:" + key;
}
inline std::string version(const std::string& prefix,
                           const std::string& group) {
  return prefix + "g:" + group;
}
inline std::string members(const std::string& prefix,
                           const std::string& group) {
  return prefix + "m:" + group;
}
inline std::string lease(const std::string& prefix, const std::string& key) {
  return prefix + "l:" + key;
}
inline std::string events_channel(const std::string& prefix) {
  return prefix + "c:events";
}
inline std::string node_channel(const std::string& prefix,
                                const std::string& node_id) {
  return prefix + "n:" + node_id;
}

/// How long group versions and member sets live: longer than any value.
inline constexpr const char* bookkeeping_ttl_ms = "86400000";

/// KEYS: value, version, lease. ARGV: lease token, lease ms, mode, now ms,
/// stale-window ms. Mode 0: never lease; 1: lease when the value is missing
/// or past its stale-while-revalidate window (a load is needed); 2: lease
/// when it is missing or no longer fresh (a stale-while-revalidate refresh:
/// none is needed if another one already landed); 3: always lease (an early
/// XFetch refresh). Returns {value or nil, version, 1 if leased, 1 if a
/// load is needed} — the caller follows this decision rather than its own
/// clock, so the two never disagree at the boundary. Reading
/// the version in the same step as the value is what lets a later store
/// detect an invalidation that happened while it was loading.
inline constexpr const char* get_or_lease_script = R"lua(
local v = redis.call('GET', KEYS[1])
local ver = redis.call('GET', KEYS[2]) or '0'
local mode = ARGV[3]
local need = mode == '3'
if mode == '1' or mode == '2' then
  if not v then
    need = true
  else
    local fresh_until = tonumber(string.match(v, '^(%d+) ')) or 0
    local window = 0
    -- a remembered 404 is never served past its time
    if mode == '1' and not string.find(v, ' !404$') then
      window = tonumber(ARGV[5])
    end
    need = fresh_until + window <= tonumber(ARGV[4])
  end
end
local leased = 0
if need and redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  leased = 1
end
return {v or false, ver, leased, need and 1 or 0}
)lua";

/// KEYS: value, version, members, lease. ARGV: version read before the
/// load, value, px, lease token, bookkeeping ttl. Stores only if the group was
/// not invalidated since (the seed's stale-write-back race), and releases the
/// lease if it is still ours. Returns 1 if stored.
inline constexpr const char* store_script = R"lua(
if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1
)lua";

/// KEYS: lease. ARGV: lease token. Releases the lease if it is ours.
inline constexpr const char* release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

/// KEYS: version1, members1, version2, members2, ... ARGV: bookkeeping ttl.
/// Bumps each group's version and deletes every value stored under it.
inline constexpr const char* invalidate_script = R"lua(
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
  local members = redis.call('SMEMBERS', KEYS[i + 1])
  for _, key in ipairs(members) do redis.call('DEL', key) end
  redis.call('DEL', KEYS[i + 1])
end
return 1
)lua";

} // namespace switchboard::cache_keys

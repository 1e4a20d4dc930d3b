// cache_keys — how the cache names things in Redis, and the Lua scripts
// that make its multi-step operations atomic there. Shared by `cache` and
// `cache_entry`; nothing else may write these keys.
//
//   <prefix>v:<key>    the value: "<version> <fresh_until_ms> <load_ms>
//                      <json or !404>", with a PX past its grace window
//   <prefix>g:<group>  the group's version: a token never used before
//                      ("<unix µs>.<serial>"), replaced by every
//                      invalidation; missing means unknown, and a fresh
//                      token is minted, so no older value matches again
//   <prefix>m:<group>  the value keys stored under the group (at most
//                      group_members_max): lets an invalidation free their
//                      memory at once
//   <prefix>gs         the serial mixed into version tokens
//   <prefix>l:<key>    the load lease (SET NX PX): one loader in the cluster
//   <prefix>c:events   channel: "fill <key>", "inval <id> <node> <group>..."
//   <prefix>n:<node>   channel: "ack <id>" to the node that invalidated
//
// All of it may live on a Redis that evicts (allkeys-lru, see
// docs/operations.md), so any key may vanish at any moment and none may be
// needed for correctness: a value counts only if the version it records is
// the group's current one. An evicted m: set costs only memory (its values
// still mismatch after the next invalidation and expire by PX); an evicted
// g: turns every value of the group into a miss; an evicted v: is a miss;
// an evicted l: lets a second loader in.
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

/// How long group versions, member sets and the serial live: longer than
/// any value (a store refreshes its group's), so an expired one holds
/// nothing that could still match.
inline constexpr const char* bookkeeping_ttl_ms = "86400000";

inline std::string serial(const std::string& prefix) {
  return prefix + "gs";
}

/// sb_token(serial key, ttl) -> a version token never returned before:
/// Redis's clock in microseconds and a serial. Tokens only need to differ,
/// never to be ordered; the serial tells apart two taken in one microsecond,
/// the clock two taken before and after the serial was evicted.
#define SB_CACHE_TOKEN_LUA                                                     \
  "local function sb_token(serial_key, ttl)\n"                                 \
  "  local t = redis.call('TIME')\n"                                           \
  "  local n = redis.call('INCR', serial_key)\n"                               \
  "  redis.call('PEXPIRE', serial_key, ttl)\n"                                 \
  "  return t[1] .. string.format('%06d', tonumber(t[2])) .. '.' .. n\n"       \
  "end\n"

/// KEYS: value, version, lease, serial. ARGV: lease token, lease ms, mode,
/// now ms, stale-window ms, bookkeeping ttl. Mode 0: never lease; 1: lease
/// when the value is missing or past its stale-while-revalidate window (a
/// load is needed); 2: lease when it is missing or no longer fresh (a
/// stale-while-revalidate refresh: none is needed if another one already
/// landed); 3: always lease (an early XFetch refresh). A stored value whose
/// version is not the group's current one is missing (and deleted): it was
/// invalidated, even if its member set was lost. Returns {value without its
/// version, or nil; version; 1 if leased; 1 if a load is needed} — the
/// caller follows this decision rather than its own clock, so the two never
/// disagree at the boundary. Reading the version in the same step as the
/// value is what lets a later store detect an invalidation that happened
/// while it was loading.
inline constexpr const char* get_or_lease_script = SB_CACHE_TOKEN_LUA R"lua(
local ver = redis.call('GET', KEYS[2])
if not ver then
  ver = sb_token(KEYS[4], ARGV[6])
  redis.call('SET', KEYS[2], ver, 'NX', 'PX', ARGV[6])
end
local v = redis.call('GET', KEYS[1])
if v then
  local sp = string.find(v, ' ', 1, true)
  if sp and string.sub(v, 1, sp - 1) == ver then
    v = string.sub(v, sp + 1)
  else
    redis.call('DEL', KEYS[1])
    v = nil
  end
end
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
/// load, value, px, lease token, bookkeeping ttl, group_members_max. Stores
/// (prefixed with the version) only if the group was not invalidated since
/// (the seed's stale-write-back race), and releases the lease if it is
/// still ours. A full member set first sheds members whose values are gone;
/// still full, the value is stored unlisted (its version still guards it,
/// and its PX frees it). Returns 1 if stored.
inline constexpr const char* store_script = R"lua(
if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local most = tonumber(ARGV[6])
if redis.call('SISMEMBER', KEYS[3], KEYS[1]) == 0 then
  if redis.call('SCARD', KEYS[3]) >= most then
    for _, key in ipairs(redis.call('SRANDMEMBER', KEYS[3], 32)) do
      if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[3], key) end
    end
  end
  if redis.call('SCARD', KEYS[3]) < most then
    redis.call('SADD', KEYS[3], KEYS[1])
  end
end
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1
)lua";

/// KEYS: lease. ARGV: lease token. Releases the lease if it is ours.
inline constexpr const char* release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

/// KEYS: serial, version1, members1, version2, members2, ... ARGV:
/// bookkeeping ttl. Gives each group a new version (every value stored
/// under an older one stops matching) and deletes the values listed in its
/// member set (only to free their memory now).
inline constexpr const char* invalidate_script = SB_CACHE_TOKEN_LUA R"lua(
for i = 2, #KEYS, 2 do
  redis.call('SET', KEYS[i], sb_token(KEYS[1], ARGV[1]), 'PX', ARGV[1])
  local members = redis.call('SMEMBERS', KEYS[i + 1])
  for _, key in ipairs(members) do redis.call('DEL', key) end
  redis.call('DEL', KEYS[i + 1])
end
return 1
)lua";

#undef SB_CACHE_TOKEN_LUA

} // namespace switchboard::cache_keys

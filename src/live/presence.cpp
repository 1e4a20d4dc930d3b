// presence — see presence.hpp.
#include "src/live/presence.hpp"

#include <boost/json.hpp>

namespace switchboard::live {

namespace {

std::string users_key(const std::string& p) {
  return p + "po";
}
std::string user_nodes_key(const std::string& p, int64_t u) {
  return p + "pu:" + std::to_string(u);
}
std::string last_seen_key(const std::string& p) {
  return p + "ls";
}
std::string channel_key(const std::string& p, const std::string& ch) {
  return p + "cp:" + ch;
}

// KEYS: po, ls. ARGV: prefix, node, now, ttl, user…
constexpr const char* refresh_script = R"lua(
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local expiry = now + ttl
for i = 5, #ARGV do
  local key = ARGV[1] .. 'pu:' .. ARGV[i]
  redis.call('HSET', key, ARGV[2], expiry)
  redis.call('PEXPIRE', key, 2 * ttl)
  redis.call('ZADD', KEYS[1], 'GT', expiry, ARGV[i])
end
-- Users nobody renewed: their nodes died. They were last seen about when
-- their entries were last renewed.
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
for i = 1, #gone, 2 do
  redis.call('ZREM', KEYS[1], gone[i])
  redis.call('HSET', KEYS[2], gone[i], tonumber(gone[i + 1]) - ttl)
  redis.call('DEL', ARGV[1] .. 'pu:' .. gone[i])
end
-- Renewed by every node with a user online: it expires only when no node
-- has renewed anyone for 2 ttl, and then every entry in it was stale.
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], 2 * ttl) end
return #gone / 2
)lua";

// KEYS: po, ls, pu:<user>. ARGV: node, now, user.
constexpr const char* leave_script = R"lua(
local now = tonumber(ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[1])
local entries = redis.call('HGETALL', KEYS[3])
for i = 2, #entries, 2 do
  if tonumber(entries[i]) > now then return 0 end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], now)
return 1
)lua";

// KEYS: po, ls. ARGV: user.
constexpr const char* user_script = R"lua(
return {redis.call('ZSCORE', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1])}
)lua";

// KEYS: po. ARGV: now, cap.
constexpr const char* online_script = R"lua(
local count = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
return {count, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))}
)lua";

// Channel presence. Fields are "<user>|<node>" -> expiry ms. `present`
// says whether a user has an unexpired field other than `except`.
constexpr const char* channel_common = R"lua(
local function present(entries, user, except, now)
  local prefix = user .. '|'
  for i = 1, #entries, 2 do
    local field = entries[i]
    if field ~= except and string.sub(field, 1, #prefix) == prefix
       and tonumber(entries[i + 1]) > now then
      return true
    end
  end
  return false
end
local function announce(event, user)
  local data = '{"user_id":' .. user .. '}'
  local rest = ',"event":"' .. event .. '","data":' .. data .. ',"hints":' .. ARGV[5] .. '}'
  sb_publish(KEYS[2], KEYS[3], KEYS[4], ARGV[6], rest, ARGV[7], ARGV[8], ARGV[3], event)
end
)lua";

// KEYS: cp:<channel>, sequence, history, pubsub channel. ARGV: node, unused,
// now, ttl, hints json, channel json, history size, history ttl, user…
constexpr const char* channel_refresh_body = R"lua(
local node, now, ttl = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local entries = redis.call('HGETALL', KEYS[1])
for i = 9, #ARGV do
  local field = ARGV[i] .. '|' .. node
  local was = redis.call('HGET', KEYS[1], field)
  if not (was and tonumber(was) > now) and not present(entries, ARGV[i], field, now) then
    announce('presence.join', ARGV[i])
  end
  redis.call('HSET', KEYS[1], field, now + ttl)
end
-- Drop entries nobody renewed (a dead node's) and announce users gone.
entries = redis.call('HGETALL', KEYS[1])
local dropped = {}
for i = 1, #entries, 2 do
  if tonumber(entries[i + 1]) <= now then
    redis.call('HDEL', KEYS[1], entries[i])
    dropped[#dropped + 1] = string.match(entries[i], '^(%d+)|')
  end
end
entries = redis.call('HGETALL', KEYS[1])
local told = {}
for _, user in ipairs(dropped) do
  if user and not told[user] and not present(entries, user, '', now) then
    told[user] = true
    announce('presence.leave', user)
  end
end
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
return 1
)lua";

// KEYS: as above. ARGV: node, user, now, ttl, hints json, channel json,
// history size, history ttl.
constexpr const char* channel_leave_body = R"lua(
local field = ARGV[2] .. '|' .. ARGV[1]
local now = tonumber(ARGV[3])
local was = redis.call('HGET', KEYS[1], field)
redis.call('HDEL', KEYS[1], field)
if not was then return 0 end
local entries = redis.call('HGETALL', KEYS[1])
if present(entries, ARGV[2], '', now) then return 0 end
announce('presence.leave', ARGV[2])
return 1
)lua";

// KEYS: cp:<channel>. ARGV: now.
constexpr const char* channel_read_script = R"lua(
local entries = redis.call('HGETALL', KEYS[1])
local now, seen, out = tonumber(ARGV[1]), {}, {}
for i = 1, #entries, 2 do
  local user = string.match(entries[i], '^(%d+)|')
  if user and tonumber(entries[i + 1]) > now and not seen[user] then
    seen[user] = true
    out[#out + 1] = user
  end
end
return out
)lua";

std::string presence_hints(const std::string& channel) {
  boost::json::object hints{
      {"invalidate", boost::json::array{
                         boost::json::array{"channels", channel, "presence"}}}};
  return boost::json::serialize(hints);
}

redis_command channel_command(const char* body,
                              const presence_settings& settings,
                              const std::string& channel,
                              const std::string& second,
                              const history_settings& history) {
  const auto& p = settings.prefix;
  return {"EVAL",
          publish_lua_function() + channel_common + body,
          "4",
          channel_key(p, channel),
          sequence_key(p, channel),
          history_key(p, channel),
          pubsub_channel(p, channel),
          settings.node_id,
          second,
          std::to_string(now_ms()),
          std::to_string(settings.ttl_ms),
          presence_hints(channel),
          boost::json::serialize(boost::json::string{channel}),
          std::to_string(history.size),
          std::to_string(history.ttl_ms)};
}

} // namespace

redis_command presence_refresh_command(const presence_settings& settings,
                                       const std::vector<int64_t>& users) {
  redis_command command{"EVAL",
                        refresh_script,
                        "2",
                        users_key(settings.prefix),
                        last_seen_key(settings.prefix),
                        settings.prefix,
                        settings.node_id,
                        std::to_string(now_ms()),
                        std::to_string(settings.ttl_ms)};
  for (auto user : users)
    command.push_back(std::to_string(user));
  return command;
}

redis_command presence_leave_command(const presence_settings& settings,
                                     int64_t user) {
  return {"EVAL",
          leave_script,
          "3",
          users_key(settings.prefix),
          last_seen_key(settings.prefix),
          user_nodes_key(settings.prefix, user),
          settings.node_id,
          std::to_string(now_ms()),
          std::to_string(user)};
}

redis_command presence_user_command(const std::string& prefix, int64_t user) {
  return {"EVAL",
          user_script,
          "2",
          users_key(prefix),
          last_seen_key(prefix),
          std::to_string(user)};
}

redis_command presence_online_command(const std::string& prefix, int64_t cap) {
  return {"EVAL",
          online_script,
          "1",
          users_key(prefix),
          std::to_string(now_ms()),
          std::to_string(cap)};
}

redis_command channel_presence_refresh_command(
    const presence_settings& settings, const std::string& channel,
    const std::vector<int64_t>& users, const history_settings& history) {
  auto command =
      channel_command(channel_refresh_body, settings, channel, "", history);
  for (auto user : users)
    command.push_back(std::to_string(user));
  return command;
}

redis_command channel_presence_leave_command(const presence_settings& settings,
                                             const std::string& channel,
                                             int64_t user,
                                             const history_settings& history) {
  return channel_command(channel_leave_body, settings, channel,
                         std::to_string(user), history);
}

redis_command channel_presence_read_command(const std::string& prefix,
                                            const std::string& channel) {
  return {"EVAL", channel_read_script, "1", channel_key(prefix, channel),
          std::to_string(now_ms())};
}

} // namespace switchboard::live

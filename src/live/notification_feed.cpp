// notification_feed — see notification_feed.hpp. The scripts keep the list
// and its counters consistent with each other (one script, one atomic
// step). Entries are the JSON the node built, with "read" before "data", so
// marking one read is a textual replacement of its first "read":false.
#include "src/live/notification_feed.hpp"

namespace switchboard::live {

namespace {

// The generation outlives every list it guards.
constexpr int64_t generation_ttl_ms = 30ll * 24 * 3600 * 1000;

std::string list_key(const std::string& p, int64_t u) {
  return p + "nl:" + std::to_string(u);
}
std::string unread_key(const std::string& p, int64_t u) {
  return p + "nu:" + std::to_string(u);
}
std::string generation_key(const std::string& p, int64_t u) {
  return p + "ng:" + std::to_string(u);
}

// KEYS: list, unread, generation. ARGV: json, size, generation ttl ms.
// The list keeps the age its rebuild gave it (a push never extends it): so
// it is rebuilt from PostgreSQL at least every notification_feed_ttl_s.
// A list without its count (or the reverse) is dropped, not trusted.
constexpr const char* push_script = R"lua(
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local has_list = redis.call('EXISTS', KEYS[1]) == 1
if has_list and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
  redis.call('INCR', KEYS[2])
elseif has_list then
  redis.call('DEL', KEYS[1])
end
return 1
)lua";

// KEYS: list, unread, generation. ARGV: generation ttl ms. A suspect feed
// goes; the generation moves so that no rebuild read before applies.
constexpr const char* drop_script = R"lua(
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return 1
)lua";

// KEYS: list, unread, generation. ARGV: limit.
constexpr const char* read_script = R"lua(
local g = redis.call('GET', KEYS[3]) or '0'
local unread = redis.call('GET', KEYS[2])
if not unread or redis.call('EXISTS', KEYS[1]) == 0 then return {0, g} end
return {1, g, unread, redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)}
)lua";

// KEYS: list, unread, generation. ARGV: generation, unread, ttl ms, json…
constexpr const char* fill_script = R"lua(
local g = redis.call('GET', KEYS[3]) or '0'
if g ~= ARGV[1] or redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
if #ARGV < 4 then redis.call('RPUSH', KEYS[1], '') end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

// KEYS: list, unread, generation. ARGV: '{"id":<id>,' prefix, was_unread.
constexpr const char* mark_read_script = R"lua(
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], 2592000000) -- generation_ttl_ms
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
for i, entry in ipairs(entries) do
  if string.sub(entry, 1, #ARGV[1]) == ARGV[1] then
    local updated = string.gsub(entry, '"read":false', '"read":true', 1)
    redis.call('LSET', KEYS[1], i - 1, updated)
    break
  end
end
if ARGV[2] == '1' then
  local n = tonumber(redis.call('GET', KEYS[2]) or '0')
  if n > 0 then redis.call('DECR', KEYS[2]) end
end
return 1
)lua";

} // namespace

redis_command feed_push_command(const std::string& prefix, int64_t user_id,
                                const std::string& notification_json) {
  return {"EVAL",
          push_script,
          "3",
          list_key(prefix, user_id),
          unread_key(prefix, user_id),
          generation_key(prefix, user_id),
          notification_json,
          std::to_string(feed_size),
          std::to_string(generation_ttl_ms)};
}

redis_command feed_drop_command(const std::string& prefix, int64_t user_id) {
  return {"EVAL",
          drop_script,
          "3",
          list_key(prefix, user_id),
          unread_key(prefix, user_id),
          generation_key(prefix, user_id),
          std::to_string(generation_ttl_ms)};
}

redis_command feed_read_command(const std::string& prefix, int64_t user_id,
                                int64_t limit) {
  return {"EVAL",
          read_script,
          "3",
          list_key(prefix, user_id),
          unread_key(prefix, user_id),
          generation_key(prefix, user_id),
          std::to_string(limit)};
}

redis_command feed_fill_command(const std::string& prefix, int64_t user_id,
                                const std::string& generation,
                                const std::vector<std::string>& newest_first,
                                int64_t unread, int64_t ttl_ms) {
  redis_command command{"EVAL",
                        fill_script,
                        "3",
                        list_key(prefix, user_id),
                        unread_key(prefix, user_id),
                        generation_key(prefix, user_id),
                        generation,
                        std::to_string(unread),
                        std::to_string(ttl_ms)};
  for (const auto& json : newest_first)
    command.push_back(json);
  return command;
}

redis_command feed_mark_read_command(const std::string& prefix, int64_t user_id,
                                     int64_t id, bool was_unread) {
  return {"EVAL",
          mark_read_script,
          "3",
          list_key(prefix, user_id),
          unread_key(prefix, user_id),
          generation_key(prefix, user_id),
          "{\"id\":" + std::to_string(id) + ",",
          was_unread ? "1" : "0"};
}

} // namespace switchboard::live

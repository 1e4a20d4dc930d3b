// publisher — see publisher.hpp. The push JSON is assembled in the script
// around the offset it assigns, so no node ever re-encodes a message: the
// bytes Redis publishes are the bytes clients receive.
#include "src/live/publisher.hpp"

#include "src/live/client_frames.hpp"

#include <boost/json.hpp>

namespace switchboard::live {

namespace {

// sb_publish(sequence key, history key, pubsub channel, channel as a JSON
// string, the push JSON after the offset, history size, history ttl ms,
// now ms, event name) -> offset. Shared by every script that publishes
// (src/live/presence.cpp too), so there is one way to number a message.
constexpr const char* publish_function = R"lua(
local function sb_publish(seq_key, hist_key, chan, chan_json, rest, size, ttl, now, event)
  -- The channel's last offset (0: none yet, or Redis lost the counter).
  local prev = tonumber(redis.call('GET', seq_key) or '0')
  if prev == 0 then
    -- A lost counter whose history survived: go on from the history.
    local last = redis.call('XREVRANGE', hist_key, '+', '-', 'COUNT', 1)
    if #last > 0 then
      prev = tonumber(string.match(last[1][1], '%-(%d+)$')) or 0
    end
  end
  -- Offsets never go back, whatever Redis lost: a new one is past the
  -- counter and past Redis's clock in microseconds, so after a crash that
  -- lost the last writes (appendfsync everysec) or a failover to a replica
  -- that lagged, a new message is never numbered like one some node
  -- already delivered. Offsets are therefore not consecutive: each message
  -- names the one before it (prev), which is how nodes find gaps (prev
  -- past what they delivered) and losses (prev before it).
  local clock = redis.call('TIME')
  local n = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
  if n <= prev then n = prev + 1 end
  -- Lua numbers are doubles: print them as integers (exact below 2^53).
  local seq = string.format('%.0f', n)
  local before = string.format('%.0f', prev)
  redis.call('SET', seq_key, seq, 'PX', 2592000000)
  local msg = '{"channel":' .. chan_json .. ',"offset":"' .. seq .. '"' .. rest
  redis.call('XADD', hist_key, 'MAXLEN', size, '0-' .. seq, 'm', msg, 'e', event, 't', now, 'p', before)
  redis.call('PEXPIRE', hist_key, ttl)
  redis.call('PUBLISH', chan, seq .. ' ' .. before .. ' ' .. event .. ' ' .. msg)
  return n
end
)lua";

// KEYS: sequence, history, pubsub channel. ARGV: channel as a JSON string,
// the push JSON after the offset, history size, history ttl ms, now ms,
// event name.
const std::string publish_script =
    std::string{publish_function} +
    "return sb_publish(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], "
    "ARGV[4], ARGV[5], ARGV[6])\n";

// KEYS: sequence, history, pubsub channel, creations counter. ARGV: as
// publish_script, then the creation limit and its window ms. A channel
// comes into existence when its sequence key does not exist yet; the
// counter is read before it is bumped, so a refused publish costs nothing.
const std::string client_publish_script = std::string{publish_function} + R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  if tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[7]) then
    local left = redis.call('PTTL', KEYS[4])
    if left < 1 then
      -- a counter without a TTL (written by hand?) must not block for ever
      redis.call('PEXPIRE', KEYS[4], ARGV[8])
      left = tonumber(ARGV[8])
    end
    return -left
  end
  redis.call('INCR', KEYS[4])
  if redis.call('PTTL', KEYS[4]) < 0 then redis.call('PEXPIRE', KEYS[4], ARGV[8]) end
end
return sb_publish(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
)lua";

} // namespace

std::string publish_lua_function() {
  return publish_function;
}

std::string push_rest(const std::string& event, const std::string& data_json,
                      const std::string& hints_json) {
  std::string rest = ",\"event\":";
  rest += boost::json::serialize(boost::json::string{event});
  rest += ",\"data\":";
  rest += data_json;
  if (!hints_json.empty()) {
    rest += ",\"hints\":";
    rest += hints_json;
  }
  rest += '}';
  return rest;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sequence_key(const std::string& prefix, const std::string& ch) {
  return prefix + "q:" + ch;
}

std::string history_key(const std::string& prefix, const std::string& ch) {
  return prefix + "h:" + ch;
}

std::string pubsub_channel(const std::string& prefix, const std::string& ch) {
  return prefix + "ch:" + ch;
}

std::string loss_key(const std::string& prefix, const std::string& ch) {
  return prefix + "ql:" + ch;
}

redis_command loss_mark_command(const std::string& prefix,
                                const std::string& channel, int64_t upto,
                                const history_settings& history) {
  static const std::string script = R"lua(
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
)lua";
  return {"EVAL",
          script,
          "1",
          loss_key(prefix, channel),
          std::to_string(upto),
          std::to_string(history.ttl_ms)};
}

redis_command resume_check_command(const std::string& prefix,
                                   const std::string& channel, int64_t since) {
  static const std::string script = R"lua(
local first = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', 1)
return {first, redis.call('GET', KEYS[2])}
)lua";
  return {"EVAL",
          script,
          "2",
          history_key(prefix, channel),
          loss_key(prefix, channel),
          "0-" + std::to_string(since + 1)};
}

redis_command publish_command(const std::string& prefix,
                              const std::string& channel,
                              const std::string& event,
                              const std::string& data_json,
                              const std::string& hints_json,
                              const history_settings& history) {
  auto rest = push_rest(event, data_json, hints_json);
  auto now = now_ms();
  return {"EVAL",
          publish_script,
          "3",
          sequence_key(prefix, channel),
          history_key(prefix, channel),
          pubsub_channel(prefix, channel),
          boost::json::serialize(boost::json::string{channel}),
          std::move(rest),
          std::to_string(history.size),
          std::to_string(history.ttl_ms),
          std::to_string(now),
          event};
}

std::string new_channels_key(const std::string& prefix, int64_t user_id) {
  return prefix + "nc:" + std::to_string(user_id);
}

redis_command client_publish_command(const std::string& prefix,
                                     const std::string& channel,
                                     const std::string& data_json,
                                     const history_settings& history,
                                     const creation_limit& limit) {
  auto command =
      publish_command(prefix, channel, "message", data_json, "", history);
  command[1] = client_publish_script;
  command[2] = "4";
  command.insert(command.begin() + 6, limit.counter_key);
  command.push_back(std::to_string(limit.limit));
  command.push_back(std::to_string(limit.window_ms));
  return command;
}

push_ptr parse_published(const std::string& channel,
                         const std::string& payload) {
  // "<offset> <prev> <event> <json>"; before prev existed (earlier nodes):
  // "<offset> <event> <json>", told apart by the JSON's '{' (an event name
  // never holds one).
  auto first = payload.find(' ');
  if (first == std::string::npos)
    return nullptr;
  auto second = payload.find(' ', first + 1);
  if (second == std::string::npos)
    return nullptr;
  auto message = std::make_shared<push_message>();
  if (!parse_offset(std::string_view{payload}.substr(0, first),
                    message->offset))
    return nullptr;
  message->channel = channel;
  if (payload.compare(second + 1, 1, "{") == 0) {
    message->previous = message->offset - 1;
    message->event = payload.substr(first + 1, second - first - 1);
    message->json = payload.substr(second + 1);
    return message;
  }
  auto third = payload.find(' ', second + 1);
  if (third == std::string::npos ||
      !parse_offset(
          std::string_view{payload}.substr(first + 1, second - first - 1),
          message->previous) ||
      message->previous >= message->offset)
    return nullptr;
  message->event = payload.substr(second + 1, third - second - 1);
  message->json = payload.substr(third + 1);
  return message;
}

bool valid_event_name(std::string_view event) {
  if (event.empty() || event.size() > 64)
    return false;
  for (char c : event)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

} // namespace switchboard::live

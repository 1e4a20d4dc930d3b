// publisher — how a message enters a channel: one Lua script that numbers
// it (an offset past the channel's last and past Redis's clock in µs, so
// offsets never go back even when Redis loses writes; each message also
// names the offset before it), appends it to the channel's
// bounded history (a Redis stream: newest channel_history_size, expiring
// channel_history_ttl after the last publish) and PUBLISHes it, atomically,
// so history and live delivery can never disagree on order. Builds the
// command; the caller sends it through the redis_bridge.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/redis.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::live {

struct history_settings {
  std::size_t size = 1000;
  int64_t ttl_ms = 24 * 3600 * 1000;
};

/// Key and channel names under the node's prefix.
std::string sequence_key(const std::string& prefix, const std::string& ch);
std::string history_key(const std::string& prefix, const std::string& ch);
std::string pubsub_channel(const std::string& prefix, const std::string& ch);
/// `<prefix>ql:<channel>`: the highest offset delivered before Redis lost
/// messages of the channel (what a node saw go back); resumes from before
/// it missed something, whatever the history holds now.
std::string loss_key(const std::string& prefix, const std::string& ch);

/// Raises the channel's loss mark to `upto` (kept as long as its history).
redis_command loss_mark_command(const std::string& prefix,
                                const std::string& channel, int64_t upto,
                                const history_settings& history);

/// What a resume from `since` needs in one step: the reply is an array of
/// the history's first entry after `since` (as XRANGE answers, at most
/// one) and the channel's loss mark (nil when none).
redis_command resume_check_command(const std::string& prefix,
                                   const std::string& channel, int64_t since);

/// The EVAL that publishes; its reply is the new offset (an integer).
/// `data_json` and `hints_json` are serialized JSON (hints may be empty).
redis_command
publish_command(const std::string& prefix, const std::string& channel,
                const std::string& event, const std::string& data_json,
                const std::string& hints_json, const history_settings& history);

/// The bound on channels one user brings into existence by publishing:
/// at most `limit` publishes per `window_ms` (a fixed window that opens with
/// the first) may find a channel's sequence key missing, i.e. create it.
struct creation_limit {
  std::string counter_key; // new_channels_key(...)
  uint32_t limit = 100;
  int64_t window_ms = 3'600'000;
};

/// `<prefix>nc:<user id>`: how many channels the user created this window.
std::string new_channels_key(const std::string& prefix, int64_t user_id);

/// publish_command for a client's publish, checked against `limit` in the
/// same script: its reply is the new offset (> 0), or, when the publish
/// would create a channel past the bound, minus the milliseconds until the
/// window ends (< 0) and nothing was stored.
redis_command client_publish_command(const std::string& prefix,
                                     const std::string& channel,
                                     const std::string& data_json,
                                     const history_settings& history,
                                     const creation_limit& limit);

/// The Lua function `sb_publish(...)` the publish script is made of, for
/// other scripts that publish as part of a larger atomic step.
std::string publish_lua_function();

/// The push JSON after its offset: `,"event":…,"data":…,"hints":…}`.
std::string push_rest(const std::string& event, const std::string& data_json,
                      const std::string& hints_json);

/// Wall-clock milliseconds (history timestamps, presence expiries).
int64_t now_ms();

/// What travels on Pub/Sub is "<offset> <previous offset> <event> <push
/// JSON>" (earlier nodes sent "<offset> <event> <push JSON>": read too, as
/// consecutive); decodes it (null when it is of neither form).
push_ptr parse_published(const std::string& channel,
                         const std::string& payload);

/// Event names: 1..64 of [A-Za-z0-9._-] (they travel in SSE's `event:`).
bool valid_event_name(std::string_view event);

} // namespace switchboard::live

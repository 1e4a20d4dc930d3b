// presence — who is online, kept in Redis so every node sees the same
// answer, and who is present in a collab channel. Builds the Redis commands
// (Lua scripts, each one atomic step); the user_registry and channel
// actors send them through the redis_bridge, handlers read with them.
//
// A user is online while any node holds a connection of theirs: each node
// writes "user -> this node, until <expiry>" and renews it every
// presence_refresh_ms; a node that dies stops renewing, so its users drop
// out within presence_ttl_ms — no ghosts, without anyone having to notice
// the death. Channel presence works the same way per (channel, user, node),
// and its join/leave events are published in the same script that changes
// the set, so they can never be published out of order.
//
// Keys: po (zset user -> latest expiry), pu:<user> (hash node -> expiry),
// ls (hash user -> last seen ms), cp:<channel> (hash "user|node" -> expiry).
#pragma once

#include "switchboard/redis.hpp"

#include "src/live/publisher.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::live {

struct presence_settings {
  std::string prefix;
  std::string node_id;
  int64_t ttl_ms = 25'000;
};

/// Marks `users` online on this node until now + ttl (join and renewal
/// alike), and retires users whose every entry has expired (a dead node's),
/// recording when they were last seen.
redis_command presence_refresh_command(const presence_settings& settings,
                                       const std::vector<int64_t>& users);

/// This node has no connection of `user` any more: offline unless another
/// node still has one.
redis_command presence_leave_command(const presence_settings& settings,
                                     int64_t user);

/// Reply: [online score or nil, last seen ms or nil].
redis_command presence_user_command(const std::string& prefix, int64_t user);

/// Reply: [count, [user ids…up to `cap`]].
redis_command presence_online_command(const std::string& prefix, int64_t cap);

/// `users` (this node's subscribers of presence channel `channel`) are
/// present until now + ttl; a user new to the channel cluster-wide is
/// announced with presence.join; users whose every entry expired (a dead
/// node's) are dropped and announced with presence.leave.
redis_command channel_presence_refresh_command(
    const presence_settings& settings, const std::string& channel,
    const std::vector<int64_t>& users, const history_settings& history);

/// This node's last subscriber of `channel` who is `user` left: announced
/// with presence.leave unless another node still has one.
redis_command channel_presence_leave_command(const presence_settings& settings,
                                             const std::string& channel,
                                             int64_t user,
                                             const history_settings& history);

/// Reply: the user ids present in `channel` now (strings).
redis_command channel_presence_read_command(const std::string& prefix,
                                            const std::string& channel);

} // namespace switchboard::live

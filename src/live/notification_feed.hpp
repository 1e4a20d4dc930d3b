// notification_feed — each user's newest notifications kept in Redis (a list
// of the notifications' JSON, newest first, at most feed_size, plus the
// unread count) so reading them rarely reaches PostgreSQL, which stays the
// record. Builds the Redis commands only; callers send them through the
// redis_bridge.
//
// Keys per user: nl:<id> (the list), nu:<id> (unread), ng:<id> (a
// generation, bumped by every change). The list is only ever added to while
// it exists (a missing list is rebuilt from PostgreSQL by the next read), and
// a rebuild applies only if no change happened since the read began — so a
// notification committed meanwhile is never left out. A change that failed
// is repaired by dropping the feed (actors/feed_keeper), and every list is
// rebuilt at least every notification_feed_ttl_s whatever happened.
#pragma once

#include "switchboard/redis.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::live {

inline constexpr int64_t feed_size = 100;

/// Adds one notification (its JSON, "read":false) if the list exists.
redis_command feed_push_command(const std::string& prefix, int64_t user_id,
                                const std::string& notification_json);

/// Reply: [1, generation, unread, [json…newest `limit`]] when the list
/// exists, else [0, generation].
redis_command feed_read_command(const std::string& prefix, int64_t user_id,
                                int64_t limit);

/// Rebuilds the list from PostgreSQL's newest rows (newest first) unless
/// the generation moved since `generation` was read; it lives `ttl_ms`.
redis_command feed_fill_command(const std::string& prefix, int64_t user_id,
                                const std::string& generation,
                                const std::vector<std::string>& newest_first,
                                int64_t unread, int64_t ttl_ms);

/// Drops the list and its count and moves the generation (a repair).
redis_command feed_drop_command(const std::string& prefix, int64_t user_id);

/// Marks notification `id` read in the list; `was_unread` (from
/// PostgreSQL) decrements the unread count.
redis_command feed_mark_read_command(const std::string& prefix, int64_t user_id,
                                     int64_t id, bool was_unread);

} // namespace switchboard::live

// feed_keeper — one actor per node that keeps users' notification feeds in
// Redis honest (src/live/notification_feed.hpp). A feed change that failed
// or whose outcome is unknown (an error reply, a timeout: the script may or
// may not have run, or run only up to its failing command) leaves the
// user's feed suspect; the keeper drops that feed (the list and the unread
// count go, the generation moves so no rebuild already under way applies)
// and retries every retry_every until Redis confirms. The next read then
// rebuilds it from PostgreSQL, the record. At most max_suspects users are
// held; beyond that the feed's own age limit (notification_feed_ttl_s)
// bounds how long it can stay short, and that is logged.
// Never: reads or writes PostgreSQL, or holds a user's notifications.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace switchboard {

struct feed_keeper_config {
  caf::actor redis_bridge;
  std::string key_prefix;
  std::chrono::milliseconds redis_timeout{1000};
  std::chrono::milliseconds retry_every{1000};
  std::size_t max_suspects = 100'000;
};

/// Accepts `(feed_suspect_atom, int64_t user_id)`.
caf::actor spawn_feed_keeper(caf::actor_system& system,
                             std::shared_ptr<node_stats> stats,
                             feed_keeper_config config);

} // namespace switchboard

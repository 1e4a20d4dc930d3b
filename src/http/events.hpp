// events — how handlers tell clients that something changed: server-side
// events published on a channel (numbered, kept in history, delivered on
// every node), and notifications (added to the user's Redis feed, then
// pushed as notification.created). Called after the write committed; a
// failure here is logged, never turned into an error for the request that
// already succeeded (clients refetch on reconnect and on recovered:false).
#pragma once

#include "switchboard/node_context.hpp"
#include "switchboard/redis.hpp"

#include <boost/json/value.hpp>
#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace switchboard::http {

/// Held by what must finish before a write's client is answered: a change
/// of a notification feed, which the client's next read (on any node) must
/// find. The answer goes when the last copy is dropped (run_write).
using answer_hold = std::shared_ptr<void>;

/// Publishes `event` with `data` (and `hints`, unless null) on `channel`.
void emit_event(caf::event_based_actor* self, const node_context_ptr& node,
                const std::string& channel, const std::string& event,
                const boost::json::value& data,
                const boost::json::value& hints = nullptr);

/// Adds `notification` to `user_id`'s feed and pushes notification.created.
/// The write's answer waits for the feed (`hold`), not for the push.
void deliver_notification(caf::event_based_actor* self,
                          const node_context_ptr& node, int64_t user_id,
                          const boost::json::value& notification,
                          const answer_hold& hold = {});

/// Pushes balance.updated with the new balance and its wallet version
/// (rising with every change: the client keeps the newest) to `user_id`.
void emit_balance(caf::event_based_actor* self, const node_context_ptr& node,
                  int64_t user_id, int64_t coins, int64_t version);

/// Sends a change of `user_id`'s notification feed (a notification_feed
/// command); if it fails or is not answered (it may have run half-way),
/// the feed is suspect (below). `hold` is kept until Redis answered.
void change_feed(caf::event_based_actor* self, const node_context_ptr& node,
                 int64_t user_id, redis_command command,
                 const answer_hold& hold = {});

/// A change of `user_id`'s feed failed or was not answered (`why`): logs it
/// and has the node's feed_keeper drop the feed until Redis confirms.
void suspect_feed(const node_context_ptr& node, int64_t user_id,
                  const std::string& why);

/// The hint that makes a TanStack Query client refetch its notifications.
boost::json::value notifications_hint();

} // namespace switchboard::http

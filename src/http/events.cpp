// events — see events.hpp.
#include "src/http/events.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/live/notification_feed.hpp"
#include "src/live/publisher.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace switchboard::http {

namespace {

void send_logged(caf::event_based_actor* self, const node_context_ptr& node,
                 redis_command command, std::string what) {
  self->request(node->redis_bridge,
                std::chrono::milliseconds{node->config->redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then(
          [what](redis_reply& reply) {
            if (!reply.ok())
              spdlog::warn("{}: not delivered: {}", what, reply.str);
          },
          [what](caf::error& e) {
            spdlog::warn("{}: not delivered: {}", what, caf::to_string(e));
          });
}

} // namespace

void emit_event(caf::event_based_actor* self, const node_context_ptr& node,
                const std::string& channel, const std::string& event,
                const boost::json::value& data,
                const boost::json::value& hints) {
  const auto& cfg = *node->config;
  auto command = live::publish_command(
      cfg.redis_key_prefix, channel, event, boost::json::serialize(data),
      hints.is_null() ? std::string{} : boost::json::serialize(hints),
      live::history_settings{cfg.channel_history_size,
                             int64_t{cfg.channel_history_ttl_s} * 1000});
  send_logged(self, node, std::move(command), event + " on " + channel);
}

void change_feed(caf::event_based_actor* self, const node_context_ptr& node,
                 int64_t user_id, redis_command command,
                 const answer_hold& hold) {
  self->request(node->redis_bridge,
                std::chrono::milliseconds{node->config->redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then(
          [node, user_id, hold](redis_reply& reply) {
            if (!reply.ok())
              suspect_feed(node, user_id, reply.str);
          },
          [node, user_id, hold](caf::error& e) {
            suspect_feed(node, user_id, caf::to_string(e));
          });
}

void suspect_feed(const node_context_ptr& node, int64_t user_id,
                  const std::string& why) {
  spdlog::warn("notification feed of user {}: not updated ({}); it is "
               "dropped for a rebuild",
               user_id, why);
  caf::anon_send(node->feed_keeper, feed_suspect_atom::value, user_id);
}

boost::json::value notifications_hint() {
  return boost::json::object{
      {"invalidate",
       boost::json::array{boost::json::array{"me", "notifications"}}}};
}

void deliver_notification(caf::event_based_actor* self,
                          const node_context_ptr& node, int64_t user_id,
                          const boost::json::value& notification,
                          const answer_hold& hold) {
  // Feed first, then the push: a client that refetches on the push finds
  // the notification in the feed.
  change_feed(self, node, user_id,
              live::feed_push_command(node->config->redis_key_prefix, user_id,
                                      boost::json::serialize(notification)),
              hold);
  emit_event(self, node, "user:" + std::to_string(user_id),
             "notification.created", notification, notifications_hint());
}

void emit_balance(caf::event_based_actor* self, const node_context_ptr& node,
                  int64_t user_id, int64_t coins, int64_t version) {
  boost::json::object data{{"coins", coins}, {"version", version}};
  boost::json::object hints{
      {"set", boost::json::object{{"key", boost::json::array{"me", "balance"}},
                                  {"data", data}}}};
  emit_event(self, node, "user:" + std::to_string(user_id), "balance.updated",
             data, hints);
}

} // namespace switchboard::http

// notifications_handlers — a user's notifications: read from their Redis
// feed (src/live/notification_feed.cpp), falling back to PostgreSQL — the
// record — when the feed is missing or Redis is down (and then rebuilding
// the feed); marking one read updates both and pushes notification.read.
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/errors.hpp"
#include "src/http/events.hpp"
#include "src/http/handlers.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/live/notification_feed.hpp"
#include "src/store/notifications.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

namespace switchboard::http {

namespace {

/// Answers from PostgreSQL; rebuilds the feed unless `generation` is empty
/// (Redis could not be read, so it would not take the rebuild either).
void read_from_database(route_call& call, int64_t user_id, int64_t limit,
                        std::string generation) {
  auto* self = call.self;
  auto node = call.node;
  auto respond = call.respond;
  run_job(
      call, store::load_notifications(user_id, live::feed_size),
      [=](db_result& result) {
        auto& all = result.value.as_object();
        auto& items = all.at("items").as_array();
        auto unread = all.at("unread").as_int64();
        if (!generation.empty()) {
          std::vector<std::string> newest_first;
          for (auto& item : items)
            newest_first.push_back(boost::json::serialize(item));
          self->request(
                  node->redis_bridge,
                  std::chrono::milliseconds{node->config->redis_timeout_ms},
                  redis_cmd_atom::value,
                  live::feed_fill_command(
                      node->config->redis_key_prefix, user_id, generation,
                      newest_first, unread,
                      int64_t{node->config->notification_feed_ttl_s} * 1000))
              .then([](redis_reply&) {}, [](caf::error&) {});
        }
        boost::json::array page;
        for (size_t i = 0; i < items.size() && i < size_t(limit); ++i)
          page.push_back(items[i]);
        respond(
            json_response(200, boost::json::object{{"items", std::move(page)},
                                                   {"unread", unread}}));
      });
}

} // namespace

void get_notifications(route_call& call) {
  int64_t limit = 0;
  if (!int_query(call, "limit", 1, live::feed_size, 20, limit))
    return;
  auto copy = call;
  with_user(call, [copy, limit](int64_t user_id) mutable {
    const auto& cfg = *copy.node->config;
    copy.self
        ->request(copy.node->redis_bridge,
                  std::chrono::milliseconds{cfg.redis_timeout_ms},
                  redis_cmd_atom::value,
                  live::feed_read_command(cfg.redis_key_prefix, user_id, limit))
        .then(
            [copy, user_id, limit](redis_reply& reply) mutable {
              auto& e = reply.elements;
              if (reply.type != redis_reply::kind::array || e.size() < 2) {
                read_from_database(copy, user_id, limit, {});
                return;
              }
              if (e[0].integer != 1 || e.size() < 4) {
                read_from_database(copy, user_id, limit, e[1].str);
                return;
              }
              // The entries are the JSON the node stored: splice, not parse.
              std::string body = "{\"items\":[";
              bool first = true;
              for (auto& entry : e[3].elements) {
                if (entry.str.empty())
                  continue; // the marker of a feed rebuilt with no entries
                if (!first)
                  body += ',';
                body += entry.str;
                first = false;
              }
              int64_t unread = 0;
              parse_id(e[2].str, unread); // "0" leaves it 0
              body += "],\"unread\":" + std::to_string(unread) + "}";
              http_response response;
              response.body = std::move(body);
              response.with("Cache-Control", "no-store");
              copy.respond(std::move(response));
            },
            [copy, user_id, limit](caf::error&) mutable {
              read_from_database(copy, user_id, limit, {});
            });
  });
}

void post_notification_read(route_call& call) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  auto copy = call;
  with_user(call, [copy, id](int64_t user_id) mutable {
    auto* self = copy.self;
    auto node = copy.node;
    run_write(
        copy, store::mark_notification_read(user_id, id),
        [](const boost::json::value*) { return std::vector<std::string>{}; },
        write_answer{
            [](const boost::json::value&) {
              http_response done;
              done.status = 204;
              done.content_type.clear();
              return done;
            },
            [self, node, user_id, id](const boost::json::value& written,
                                      const answer_hold& hold) {
              bool changed = written.at("changed").as_bool();
              // The 204 waits for the feed: the next list shows it read.
              change_feed(
                  self, node, user_id,
                  live::feed_mark_read_command(node->config->redis_key_prefix,
                                               user_id, id, changed),
                  hold);
              if (changed)
                emit_event(self, node, "user:" + std::to_string(user_id),
                           "notification.read",
                           boost::json::object{
                               {"id", id}, {"unread", written.at("unread")}},
                           notifications_hint());
            }});
  });
}

} // namespace switchboard::http

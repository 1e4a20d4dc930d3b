// presence_handlers — the contract's Presence reads: whether a user is
// online (and when they were last seen), who is online, and who is present
// in a collab channel. Read from Redis, where every node keeps its users
// (src/live/presence.cpp); Redis away means 503, not a guess.
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/sessions.hpp"
#include "src/http/times.hpp"
#include "src/http/writes.hpp"
#include "src/live/channels.hpp"
#include "src/live/presence.hpp"
#include "src/live/publisher.hpp"
#include "src/store/users.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <charconv>

namespace switchboard::http {

namespace {

constexpr int64_t online_cap = 1000;

int64_t as_integer(const redis_reply& reply) {
  if (reply.type == redis_reply::kind::integer)
    return reply.integer;
  int64_t out = 0;
  if (reply.type == redis_reply::kind::string) {
    double d = 0; // ZSCORE answers in floating point
    auto [end, ec] = std::from_chars(reply.str.data(),
                                     reply.str.data() + reply.str.size(), d);
    if (ec == std::errc{})
      out = static_cast<int64_t>(d);
  }
  return out;
}

/// Sends `command` to Redis; `then(reply)` on an array reply, 503 otherwise.
void ask_redis(route_call& call, redis_command command,
               std::function<void(redis_reply&)> then) {
  auto respond = call.respond;
  call.self
      ->request(call.node->redis_bridge,
                std::chrono::milliseconds{call.node->config->redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then(
          [respond, then](redis_reply& reply) {
            if (reply.type != redis_reply::kind::array) {
              respond(unavailable("presence is unavailable"));
              return;
            }
            then(reply);
          },
          [respond](caf::error&) {
            respond(unavailable("presence is unavailable"));
          });
}

} // namespace

void get_user_presence(route_call& call) {
  int64_t user_id = 0;
  if (!id_param(call, 0, user_id))
    return;
  auto respond = call.respond;
  ask_redis(
      call,
      live::presence_user_command(call.node->config->redis_key_prefix, user_id),
      [respond, user_id](redis_reply& reply) {
        auto now = live::now_ms();
        bool online = reply.elements.size() == 2 &&
                      !reply.elements[0].is_nil() &&
                      as_integer(reply.elements[0]) > now;
        boost::json::value last_seen = nullptr;
        if (online)
          last_seen = now_rfc3339();
        else if (reply.elements.size() == 2 && !reply.elements[1].is_nil())
          last_seen = rfc3339_ms(as_integer(reply.elements[1]));
        respond(
            json_response(200, boost::json::object{{"user_id", user_id},
                                                   {"online", online},
                                                   {"last_seen", last_seen}}));
      });
}

void get_online_users(route_call& call) {
  auto respond = call.respond;
  ask_redis(call,
            live::presence_online_command(call.node->config->redis_key_prefix,
                                          online_cap),
            [respond](redis_reply& reply) {
              boost::json::array items;
              int64_t count = 0;
              if (reply.elements.size() == 2) {
                count = as_integer(reply.elements[0]);
                for (auto& id : reply.elements[1].elements)
                  items.push_back(as_integer(id));
              }
              respond(json_response(
                  200, boost::json::object{{"count", count},
                                           {"items", std::move(items)}}));
            });
}

void get_channel_presence(route_call& call) {
  auto check = live::check_exists(call.params[0]);
  if (!check.ok) {
    call.respond(error_response(400, check.code, check.message));
    return;
  }
  if (!live::has_presence(check.canonical)) {
    call.respond(bad_request("channel: only collab:* channels have presence"));
    return;
  }
  auto copy = call;
  with_user(call, [copy, channel = check.canonical](int64_t) mutable {
    auto node = copy.node;
    ask_redis(
        copy,
        live::channel_presence_read_command(node->config->redis_key_prefix,
                                            channel),
        [copy, channel](redis_reply& reply) mutable {
          std::vector<int64_t> ids;
          for (auto& id : reply.elements)
            ids.push_back(as_integer(id));
          if (ids.empty()) {
            copy.respond(json_response(
                200, boost::json::object{{"channel", channel},
                                         {"users", boost::json::array{}}}));
            return;
          }
          auto respond = copy.respond;
          run_job(copy, store::load_display_names(std::move(ids)),
                  [respond, channel](db_result& result) {
                    respond(json_response(
                        200, boost::json::object{
                                 {"channel", channel},
                                 {"users", result.value.at("users")}}));
                  });
        });
  });
}

} // namespace switchboard::http

// publish_handlers — POST /api/publish: other backend services push an
// event to any valid channel with the server's API key (the contract's
// Server API). The message is numbered, kept in the channel's history and
// published by one Lua script (src/live/publisher.cpp).
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/live/channels.hpp"
#include "src/live/publisher.hpp"
#include "src/redis/redis_connection.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

namespace switchboard::http {

namespace {

/// Checks the request and builds the Lua call, or answers it and returns
/// nothing.
std::optional<redis_command> prepare_publish(route_call& call) {
  const auto& cfg = *call.node->config;
  auto given = call.request.header("x-api-key");
  if (cfg.api_key.empty() || !given || !same_secret(*given, cfg.api_key)) {
    call.respond(
        error_response(401, "unauthorized", "X-Api-Key missing or wrong"));
    return std::nullopt;
  }
  auto body = body_or_400(call);
  if (!body)
    return std::nullopt;
  field_reader in{*body};
  auto channel = in.string("channel", 1, 128, true);
  auto event = in.string("event", 1, 64, true);
  if (in.rejected(call))
    return std::nullopt;
  if (!live::valid_event_name(*event)) {
    call.respond(bad_request("event: 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'"));
    return std::nullopt;
  }
  auto* data = body->if_contains("data");
  if (data == nullptr) {
    call.respond(bad_request("data: is required"));
    return std::nullopt;
  }
  if (!finite_numbers(*data)) {
    call.respond(bad_request("data: a number is out of range"));
    return std::nullopt;
  }
  std::string hints;
  if (auto* h = body->if_contains("hints"); h && !h->is_null()) {
    if (!h->is_object() || !finite_numbers(*h)) {
      call.respond(bad_request("hints: must be an object (of finite numbers)"));
      return std::nullopt;
    }
    hints = boost::json::serialize(*h);
  }
  auto check = live::check_exists(*channel);
  if (!check.ok) {
    call.respond(error_response(400, check.code, check.message));
    return std::nullopt;
  }
  return live::publish_command(
      cfg.redis_key_prefix, check.canonical, *event,
      boost::json::serialize(*data), hints,
      live::history_settings{cfg.channel_history_size,
                             int64_t{cfg.channel_history_ttl_s} * 1000});
}

void answer_published(const responder& respond, const redis_reply& reply) {
  if (reply.type != redis_reply::kind::integer) {
    respond(unavailable("publishing failed: " + reply.str));
    return;
  }
  http_response response;
  response.status = 202;
  response.body = boost::json::serialize(
      boost::json::object{{"offset", std::to_string(reply.integer)}});
  respond(std::move(response));
}

} // namespace

void post_publish(route_call& call) {
  auto command = prepare_publish(call);
  if (!command)
    return;
  auto respond = call.respond;
  call.self
      // No timeout of our own: the bridge answers every command within
      // redis_timeout_ms (+ a probe interval), without waking CAF's clock.
      ->request(call.node->redis_bridge, caf::infinite, redis_cmd_atom::value,
                std::move(*command))
      .then([respond](redis_reply& reply) { answer_published(respond, reply); },
            [respond](caf::error&) {
              respond(unavailable("publishing timed out"));
            });
}

void publish_on_io(route_call& call, redis::connection& redis) {
  auto command = prepare_publish(call);
  if (!command)
    return;
  // The connection answers every command: by Redis, or `unavailable` when
  // it is down or its PING goes unanswered.
  redis.send(std::move(*command), [respond = call.respond](redis_reply reply) {
    answer_published(respond, reply);
  });
}

} // namespace switchboard::http

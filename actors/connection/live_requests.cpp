// live_requests — see live_requests.hpp.
#include "actors/connection/live_requests.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/live/channels.hpp"
#include "src/live/client_frames.hpp"
#include "src/live/publisher.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

namespace switchboard {

namespace {

std::string error_json(int64_t id, std::string_view code,
                       std::string_view message) {
  boost::json::object reply{{"ok", false},
                            {"error", {{"code", code}, {"message", message}}}};
  if (id > 0)
    reply["id"] = id;
  return boost::json::serialize(reply);
}

std::string ok_json(int64_t id, const std::string* channel = nullptr,
                    const std::string* offset = nullptr) {
  boost::json::object reply{{"ok", true}};
  if (id > 0)
    reply["id"] = id;
  if (channel)
    reply["channel"] = *channel;
  if (offset)
    reply["offset"] = *offset;
  return boost::json::serialize(reply);
}

void subscribe(caf::event_based_actor* self, live_connection& conn,
               client_frame& frame) {
  auto check = live::check_subscribe(frame.channel, conn.user_id);
  if (!check.ok) {
    conn.sink->reply(error_json(frame.id, check.code, check.message));
    return;
  }
  if (conn.channels.count(check.canonical)) {
    conn.sink->reply(error_json(frame.id, "bad_request",
                                "already subscribed to this channel"));
    return;
  }
  if (conn.channels.size() >= conn.node->config->live_max_subscriptions) {
    conn.sink->reply(error_json(frame.id, "too_many_subscriptions",
                                "subscription limit of this connection"));
    return;
  }
  if (conn.user_id == 0 && !conn.anonymous_share.take()) {
    conn.node->stats->connections.anonymous_subscriptions_refused.fetch_add(
        1, std::memory_order_relaxed);
    conn.sink->reply(error_json(
        frame.id, "too_many_subscriptions",
        "anonymous subscription limit of this address; sign in for more"));
    return;
  }
  channel_join join{caf::actor_cast<caf::actor>(self), conn.sink, conn.user_id,
                    frame.id, std::nullopt};
  if (frame.since) {
    int64_t since = 0;
    live::parse_offset(*frame.since, since); // validated by the parser
    join.since = since;
  }
  conn.channels.insert(check.canonical);
  self->send(conn.node->channels, channel_join_atom::value, check.canonical,
             std::move(join));
}

void unsubscribe(caf::event_based_actor* self, live_connection& conn,
                 client_frame& frame) {
  auto check = live::check_subscribe(frame.channel, conn.user_id);
  auto name = check.ok ? check.canonical : frame.channel;
  if (conn.channels.erase(name) == 0) {
    conn.sink->reply(
        error_json(frame.id, "bad_request", "not subscribed to this channel"));
    return;
  }
  if (conn.user_id == 0)
    conn.anonymous_share.release(1);
  self->send(conn.node->channels, channel_leave_atom::value, name,
             caf::actor_cast<caf::actor>(self));
  conn.sink->reply(ok_json(frame.id, &name));
}

void publish(caf::event_based_actor* self, live_connection& conn,
             client_frame& frame) {
  auto check = live::check_client_publish(frame.channel, conn.user_id);
  if (!check.ok) {
    conn.sink->reply(error_json(frame.id, check.code, check.message));
    return;
  }
  if (!conn.publishes.take()) {
    boost::json::object reply{
        {"ok", false},
        {"error",
         {{"code", "rate_limited"},
          {"message", "too many publishes; retry later"},
          {"retry_after_ms", conn.publishes.wait().count()}}}};
    if (frame.id > 0)
      reply["id"] = frame.id;
    conn.sink->reply(boost::json::serialize(reply));
    return;
  }
  const auto& cfg = *conn.node->config;
  live::history_settings history{cfg.channel_history_size,
                                 int64_t{cfg.channel_history_ttl_s} * 1000};
  // A publish may bring a collab channel into existence (and with it a
  // counter, a history and presence keys in Redis): how many one user may
  // create is bounded, checked in the publishing script itself.
  auto command =
      cfg.live_new_channels_per_user > 0
          ? live::client_publish_command(
                cfg.redis_key_prefix, check.canonical, frame.data_json, history,
                live::creation_limit{
                    live::new_channels_key(cfg.redis_key_prefix, conn.user_id),
                    cfg.live_new_channels_per_user, 3'600'000})
          : live::publish_command(cfg.redis_key_prefix, check.canonical,
                                  "message", frame.data_json, "", history);
  auto sink = conn.sink;
  auto id = frame.id;
  auto channel = check.canonical;
  self->request(conn.node->redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then(
          [sink, id, channel](redis_reply& reply) {
            if (reply.type != redis_reply::kind::integer) {
              sink->reply(error_json(id, "unavailable", "publishing failed"));
              return;
            }
            if (reply.integer < 0) { // refused: see client_publish_command
              boost::json::object refused{
                  {"ok", false},
                  {"error",
                   {{"code", "rate_limited"},
                    {"message", "too many new channels; retry later"},
                    {"retry_after_ms", -reply.integer}}}};
              if (id > 0)
                refused["id"] = id;
              sink->reply(boost::json::serialize(refused));
              return;
            }
            auto offset = std::to_string(reply.integer);
            sink->reply(ok_json(id, &channel, &offset));
          },
          [sink, id](caf::error&) {
            sink->reply(error_json(id, "unavailable", "publishing timed out"));
          });
}

} // namespace

void start_live(live_connection& conn, node_context_ptr node,
                const std::string& client_address) {
  const auto& cfg = *node->config;
  if (node->anonymous_subscriptions)
    conn.anonymous_share =
        node->anonymous_subscriptions->for_address(client_address);
  conn.node = std::move(node);
  conn.publishes =
      live::token_bucket{cfg.live_publish_rate, cfg.live_publish_burst};
}

void join_user(caf::event_based_actor* self, live_connection& conn) {
  if (conn.user_id == 0 || conn.token.empty() || conn.joined_user)
    return;
  conn.joined_user = true;
  self->send(conn.node->users, user_join_atom::value, conn.user_id, conn.token,
             caf::actor_cast<caf::actor>(self));
}

void handle_client_frame(caf::event_based_actor* self, live_connection& conn,
                         client_frame& frame) {
  if (!frame.error.empty()) {
    conn.sink->reply(error_json(frame.id, "bad_request", frame.error));
    return;
  }
  if (frame.op == "ping")
    conn.sink->reply(ok_json(frame.id));
  else if (frame.op == "subscribe")
    subscribe(self, conn, frame);
  else if (frame.op == "unsubscribe")
    unsubscribe(self, conn, frame);
  else if (frame.op == "publish")
    publish(self, conn, frame);
}

void join_stream_channels(caf::event_based_actor* self, live_connection& conn) {
  for (auto& [name, since] : conn.stream_channels) {
    conn.channels.insert(name);
    channel_join join{caf::actor_cast<caf::actor>(self), conn.sink,
                      conn.user_id, 0, since};
    join.deliver_what_is_kept = true;
    self->send(conn.node->channels, channel_join_atom::value, name,
               std::move(join));
  }
  conn.stream_channels.clear();
}

void leave_all(caf::event_based_actor* self, live_connection& conn) {
  for (auto& name : conn.channels)
    self->send(conn.node->channels, channel_leave_atom::value, name,
               caf::actor_cast<caf::actor>(self));
  conn.channels.clear();
  conn.anonymous_share.release(conn.anonymous_share.count());
  if (conn.joined_user) {
    conn.joined_user = false;
    self->send(conn.node->users, user_leave_atom::value, conn.user_id,
               caf::actor_cast<caf::actor>(self));
  }
}

} // namespace switchboard

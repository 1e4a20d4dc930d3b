// connection — see connection.hpp. Two modes: HTTP (each request routed,
// answered through the http_sink) and, after a WebSocket upgrade, live
// (authenticate the token once, then handle client frames). Frames that
// arrive while the token is being checked wait in the mailbox (skip).
#include "actors/connection/connection.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/live.hpp"
#include "switchboard/redis.hpp"

#include "actors/connection/live_requests.hpp"
#include "src/common/credentials.hpp"
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/router.hpp"
#include "src/http/sessions.hpp"
#include "src/live/channels.hpp"
#include "src/live/client_frames.hpp"
#include "src/live/publisher.hpp"
#include "src/live/resume_token.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <optional>

namespace switchboard {

namespace {

struct connection_state;
using connection_actor = instrumented_actor<connection_state>;

void start_event_stream(connection_actor* self, http::route_call& call);

/// What the connection offers the router's stream route (GET /sse).
class event_stream_host final : public http::stream_host {
public:
  explicit event_stream_host(connection_actor* self) : self_(self) {}
  void open_event_stream(http::route_call& call) override;

private:
  connection_actor* self_;
};

struct connection_state {
  static inline const char* name = "connection";
  std::unique_ptr<kind_counter> counter;
  node_context_ptr node;
  http_sink_ptr sink;
  std::string client_address;
  live_connection live;
  std::optional<event_stream_host> stream_host;
};

void event_stream_host::open_event_stream(http::route_call& call) {
  start_event_stream(self_, call);
}

caf::behavior live_mode(connection_actor* self) {
  return {
      [=](client_frame& frame) {
        handle_client_frame(self, self->state.live, frame);
      },
      [=](conn_closed_atom) {
        leave_all(self, self->state.live);
        self->quit();
      },
      [=](logout_atom) {
        self->state.live.sink->close(close_code::unauthorized, "logged out");
      },
      [=](drain_atom) {
        self->state.live.sink->close(close_code::going_away,
                                     "server going away");
      },
  };
}

/// The WebSocket is open: check the token (if any), then go live.
void open_live(connection_actor* self, std::string token, push_sink_ptr sink) {
  auto& st = self->state;
  start_live(st.live, st.node, st.client_address);
  st.live.sink = std::move(sink);
  if (token.empty()) {
    self->become(live_mode(self)); // anonymous: public channels only
    return;
  }
  http::find_session(
      self, *st.node, token,
      [self, token](http::session_status status, int64_t user_id) {
        auto& st = self->state;
        if (status == http::session_status::found) {
          // The account must still exist (see http::with_user); frames
          // wait in the mailbox until it is known.
          http::user_exists(
              self, st.node, user_id, [self, token, user_id](bool alive) {
                auto& st = self->state;
                if (alive) {
                  st.live.user_id = user_id;
                  st.live.token = token;
                  join_user(self, st.live);
                } else {
                  st.live.sink->close(close_code::unauthorized,
                                      "the account no longer exists");
                }
                self->become(live_mode(self));
              });
          return;
        }
        if (status == http::session_status::unknown)
          st.live.sink->close(close_code::unauthorized, "unauthorized");
        else
          st.live.sink->close(close_code::going_away, "sessions unavailable");
        self->become(live_mode(self));
      });
}

/// GET /sse?channels=a,b: checks the token (if any) and every channel,
/// then answers with the start of an event stream (or an HTTP error).
void start_event_stream(connection_actor* self, http::route_call& call) {
  auto& st = self->state;
  auto& request = call.request;
  auto respond = call.respond;
  std::string channels, last_event_id;
  if (auto* value = call.query_param("channels"))
    channels = *value;
  if (auto* value = call.query_param("last_event_id"))
    last_event_id = *value;
  auto given = credential_of(request.header("authorization"), request.target);
  auto token = given.token;
  if (given.given && token.empty())
    token = "-"; // refused as malformed (401), not served anonymously
  if (auto header = request.header("last-event-id"))
    last_event_id = std::string{*header};
  auto fail = [respond](unsigned status, std::string code, std::string text) {
    respond(http::error_response(status, code, text));
  };
  auto open = [self, respond, channels, last_event_id, token](int64_t user_id) {
    auto& st = self->state;
    start_live(st.live, st.node, st.client_address);
    st.live.user_id = user_id;
    if (user_id != 0)
      st.live.token = token;
    std::vector<std::string> names;
    size_t start = 0;
    while (start <= channels.size() && !channels.empty()) {
      auto comma = channels.find(',', start);
      names.push_back(channels.substr(start, comma - start));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    if (names.empty()) {
      respond(http::bad_request("channels: name at least one channel"));
      return;
    }
    if (names.size() > st.node->config->live_max_subscriptions) {
      respond(http::bad_request("channels: too many channels"));
      return;
    }
    std::vector<std::string> canonical;
    for (auto& name : names) {
      auto check = live::check_subscribe(name, user_id);
      if (!check.ok) {
        respond(http::error_response(check.code == "forbidden" ? 403 : 400,
                                     check.code, check.message));
        return;
      }
      canonical.push_back(check.canonical);
    }
    live::resume_offsets since;
    if (!last_event_id.empty()) {
      auto decoded = live::decode_resume(last_event_id, canonical);
      if (!decoded) {
        respond(http::bad_request(
            "Last-Event-ID: not a resume id of this stream's channels"));
        return;
      }
      since = std::move(*decoded);
    }
    std::vector<std::string> unresumed; // channels without a since
    for (auto& name : canonical) {
      auto i = since.find(name);
      if (i != since.end())
        st.live.stream_channels[name] = i->second;
      else
        unresumed.push_back(name);
    }
    // An anonymous stream takes its address's share for all its channels
    // at once (released when the actor ends, however it ends); a channel
    // named twice is one subscription.
    std::sort(unresumed.begin(), unresumed.end());
    unresumed.erase(std::unique(unresumed.begin(), unresumed.end()),
                    unresumed.end());
    if (user_id == 0 &&
        !st.live.anonymous_share.take(st.live.stream_channels.size() +
                                      unresumed.size())) {
      st.node->stats->connections.anonymous_subscriptions_refused.fetch_add(
          1, std::memory_order_relaxed);
      auto refused = http::error_response(
          429, "rate_limited",
          "anonymous subscription limit of this address; sign in for more");
      refused.with("Retry-After", "5");
      respond(std::move(refused));
      return;
    }
    // Every channel resumes from a known offset: those without one from
    // where they are now, read before the stream's head goes out, so a
    // message published the moment the client sees the head is delivered.
    auto answer = [self, respond]() {
      auto& st = self->state;
      live::resume_offsets initial;
      for (auto& [name, from] : st.live.stream_channels)
        initial[name] = from.value_or(0);
      http_response stream_start;
      stream_start.event_stream = true;
      stream_start.content_type = "text/event-stream";
      stream_start.resume_id = live::encode_seed(initial);
      respond(std::move(stream_start));
    };
    if (unresumed.empty()) {
      answer();
      return;
    }
    redis_command offsets{"MGET"};
    for (auto& name : unresumed)
      offsets.push_back(
          live::sequence_key(st.node->config->redis_key_prefix, name));
    self->request(st.node->redis_bridge,
                  std::chrono::milliseconds{st.node->config->redis_timeout_ms},
                  redis_cmd_atom::value, std::move(offsets))
        .then(
            [self, respond, unresumed, answer](redis_reply& reply) {
              auto& st = self->state;
              if (reply.type != redis_reply::kind::array ||
                  reply.elements.size() != unresumed.size()) {
                respond(http::unavailable("channels unavailable"));
                return;
              }
              for (size_t i = 0; i < unresumed.size(); ++i) {
                int64_t current = 0;
                if (reply.elements[i].type == redis_reply::kind::string)
                  live::parse_offset(reply.elements[i].str, current);
                st.live.stream_channels[unresumed[i]] = current;
              }
              answer();
            },
            [respond](caf::error&) {
              respond(http::unavailable("channels unavailable"));
            });
  };
  if (token.empty()) {
    open(0);
    return;
  }
  http::find_session(
      self, *st.node, token,
      [self, respond, fail, open](http::session_status status,
                                  int64_t user_id) {
        if (status == http::session_status::found)
          http::user_exists(self, self->state.node, user_id,
                            [open, fail, user_id](bool alive) {
                              if (alive)
                                open(user_id);
                              else
                                fail(401, "unauthorized",
                                     "the account no longer exists");
                            });
        else if (status == http::session_status::unknown)
          fail(401, "unauthorized", "the token is unknown or expired");
        else
          respond(http::unavailable("sessions are unavailable"));
      });
}

caf::behavior connection_impl(connection_actor* self, node_context_ptr node,
                              http_sink_ptr sink, std::string client_address) {
  auto& st = self->state;
  st.client_address = std::move(client_address);
  st.counter =
      std::make_unique<kind_counter>(node->stats, actor_kind::connection);
  st.node = std::move(node);
  st.sink = std::move(sink);
  st.stream_host.emplace(self);
  if (auto tracker = st.node->connections) {
    tracker->add(self->address());
    self->attach_functor(
        [tracker, addr = self->address()] { tracker->remove(addr); });
  }
  return {
      [=](http_request& request) {
        auto& st = self->state;
        http::route_call call{
            self, st.node, std::move(request),       {},
            {},   {},      http::responder{st.sink}, &*st.stream_host};
        http::node_routes().dispatch(call);
      },
      [=](ws_open_atom, std::string& token, push_sink_ptr& sink) {
        open_live(self, std::move(token), std::move(sink));
      },
      [=](sse_open_atom, push_sink_ptr& sink) {
        auto& st = self->state;
        st.live.sink = std::move(sink);
        join_stream_channels(self, st.live);
        join_user(self, st.live);
        self->become(live_mode(self));
      },
      // A frame can arrive before the token check finished: keep it. So
      // can a drain (or a logout, once joined): it applies once live.
      [=](client_frame&) -> caf::skip_t { return caf::skip; },
      [=](drain_atom) -> caf::skip_t { return caf::skip; },
      [=](logout_atom) -> caf::skip_t { return caf::skip; },
      [=](conn_closed_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_connection(caf::actor_system& system, node_context_ptr node,
                            http_sink_ptr sink,
                            const std::string& client_address) {
  return system.spawn(connection_impl, std::move(node), std::move(sink),
                      client_address);
}

} // namespace switchboard

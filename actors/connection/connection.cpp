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
#include "src/http/router.hpp"

#include <caf/all.hpp>

namespace switchboard {

namespace {

struct connection_state {
  static inline const char* name = "connection";
  std::unique_ptr<kind_counter> counter;
  node_context_ptr node;
  http_sink_ptr sink;
  std::string remote_address;
  live_connection live;
};

using connection_actor = instrumented_actor<connection_state>;

bool well_formed_token(const std::string& token) {
  if (token.size() != 32)
    return false;
  for (char c : token)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
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
  };
}

/// The WebSocket is open: check the token (if any), then go live.
void open_live(connection_actor* self, std::string token, push_sink_ptr sink) {
  auto& st = self->state;
  st.live.node = st.node;
  st.live.sink = std::move(sink);
  if (token.empty()) {
    self->become(live_mode(self)); // anonymous: public channels only
    return;
  }
  if (!well_formed_token(token)) {
    st.live.sink->close(close_code::unauthorized, "unauthorized");
    self->become(live_mode(self));
    return;
  }
  const auto& cfg = *st.node->config;
  self->request(st.node->redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value,
                redis_command{"GETEX", cfg.redis_key_prefix + "s:" + token,
                              "PX",
                              std::to_string(cfg.session_ttl_s * 1000ull)})
      .then(
          [=](redis_reply& reply) {
            auto& st = self->state;
            int64_t user_id = 0;
            if (reply.type != redis_reply::kind::string ||
                !http::parse_id(reply.str, user_id)) {
              st.live.sink->close(close_code::unauthorized, "unauthorized");
            } else {
              st.live.user_id = user_id;
            }
            self->become(live_mode(self));
          },
          [=](caf::error&) {
            self->state.live.sink->close(close_code::going_away,
                                         "sessions unavailable");
            self->become(live_mode(self));
          });
}

caf::behavior connection_impl(connection_actor* self, node_context_ptr node,
                              http_sink_ptr sink, std::string remote_address) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(node->stats, actor_kind::connection);
  st.node = std::move(node);
  st.sink = std::move(sink);
  st.remote_address = std::move(remote_address);
  if (auto tracker = st.node->connections) {
    tracker->add(self->address());
    self->attach_functor(
        [tracker, addr = self->address()] { tracker->remove(addr); });
  }
  return {
      [=](http_request& request) {
        auto& st = self->state;
        http::route_call call{self, st.node, std::move(request),      {},
                              {},   {},      http::responder{st.sink}};
        http::node_routes().dispatch(call);
      },
      [=](ws_open_atom, std::string& token, push_sink_ptr& sink) {
        open_live(self, std::move(token), std::move(sink));
      },
      // A frame can arrive before the token check finished: keep it.
      [=](client_frame&) -> caf::skip_t { return caf::skip; },
      [=](conn_closed_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_connection(caf::actor_system& system, node_context_ptr node,
                            http_sink_ptr sink, std::string remote_address) {
  return system.spawn(connection_impl, std::move(node), std::move(sink),
                      std::move(remote_address));
}

} // namespace switchboard

// connection — see connection.hpp.
#include "actors/connection/connection.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"

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
};

using connection_actor = instrumented_actor<connection_state>;

caf::behavior connection_impl(connection_actor* self, node_context_ptr node,
                              http_sink_ptr sink, std::string remote_address) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(node->stats, actor_kind::connection);
  st.node = std::move(node);
  st.sink = std::move(sink);
  st.remote_address = std::move(remote_address);
  return {
      [=](http_request& request) {
        auto& st = self->state;
        http::route_call call{self, st.node, std::move(request),      {},
                              {},   {},      http::responder{st.sink}};
        http::node_routes().dispatch(call);
      },
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

// connection — one actor per accepted connection. It receives each request
// whole from its http_session, routes it, asks whichever actors the route
// needs, and answers through its http_sink. It never touches the socket:
// the session owns that, on the io thread.
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_context.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>

namespace switchboard {

/// Accepts `http_request` (from its session) and `(conn_closed_atom)`, after
/// which it quits.
/// `client_address`: the peer's address, for the per-address bound on
/// anonymous subscriptions.
caf::actor spawn_connection(caf::actor_system& system, node_context_ptr node,
                            http_sink_ptr sink,
                            const std::string& client_address);

} // namespace switchboard

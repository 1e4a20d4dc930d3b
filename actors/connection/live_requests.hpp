// live_requests — what a connection actor does with a client's live-update
// requests once it speaks WebSocket: subscribe, unsubscribe, publish, ping,
// checked against the channel table and the connection's limits. Runs
// inside the connection actor; answers through the connection's push_sink.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/node_context.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace switchboard {

struct live_connection {
  node_context_ptr node;
  push_sink_ptr sink;
  int64_t user_id = 0; // 0: anonymous
  std::set<std::string> channels;
};

void handle_client_frame(caf::event_based_actor* self, live_connection& conn,
                         client_frame& frame);

/// Leaves every channel (the connection is closing).
void leave_all(caf::event_based_actor* self, live_connection& conn);

} // namespace switchboard

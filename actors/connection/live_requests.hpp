// live_requests — what a connection actor does with a client's live-update
// requests once it speaks WebSocket: subscribe, unsubscribe, publish, ping,
// checked against the channel table and the connection's limits. Runs
// inside the connection actor; answers through the connection's push_sink.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/node_context.hpp"

#include "src/live/anonymous_subscriptions.hpp"
#include "src/live/token_bucket.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace switchboard {

struct live_connection {
  node_context_ptr node;
  push_sink_ptr sink;
  int64_t user_id = 0; // 0: anonymous
  std::string token;   // what the user signed in with (a logout closes us)
  bool joined_user = false;
  std::set<std::string> channels;
  // Anonymous: this connection's share of its address's subscriptions
  // (anon_subscriptions_per_ip); given back however the actor ends.
  live::anonymous_subscriptions::hold anonymous_share;
  // Client publishes (rate_limited above). Every frame is charged before
  // this, on the io thread (websocket_session: 4029).
  live::token_bucket publishes;
  /// SSE: the stream's channels and where each resumes, until it opens.
  std::map<std::string, std::optional<int64_t>> stream_channels;
};

/// Readies `conn` for live traffic on `node` (its rate limits start full)
/// from a client at `client_address`.
void start_live(live_connection& conn, node_context_ptr node,
                const std::string& client_address);

/// Joins the user's session actor, which closes us at logout (signed-in
/// connections only).
void join_user(caf::event_based_actor* self, live_connection& conn);

/// Joins every channel of an SSE stream (once its sink exists).
void join_stream_channels(caf::event_based_actor* self, live_connection& conn);

void handle_client_frame(caf::event_based_actor* self, live_connection& conn,
                         client_frame& frame);

/// Leaves every channel and the session (the connection is closing).
void leave_all(caf::event_based_actor* self, live_connection& conn);

} // namespace switchboard

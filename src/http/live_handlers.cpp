// live_handlers — the two routes that make a connection live. Both only
// hand over: a WebSocket handshake never reaches here (the socket layer
// upgrades it, see router::add_websocket), and an event stream's state is
// the connection actor's (stream_host).
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"

namespace switchboard::http {

void websocket_upgrade_required(route_call& call) {
  auto refused = error_response(426, "upgrade_required",
                                "GET /ws takes a WebSocket handshake only");
  refused.with("Upgrade", "websocket").with("Sec-WebSocket-Version", "13");
  call.respond(std::move(refused));
}

void open_event_stream(route_call& call) {
  // HEAD would start a stream the socket layer then cuts to its headers.
  if (call.request.method != "GET" || call.host == nullptr) {
    call.respond(error_response(405, "method_not_allowed",
                                "GET /sse opens an event stream"));
    return;
  }
  call.host->open_event_stream(call);
}

} // namespace switchboard::http

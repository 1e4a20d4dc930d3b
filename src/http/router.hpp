// router — the one map from a request's method and path to whoever serves
// it: every path the node answers is in its table (routes.cpp), including
// the WebSocket handshake (/ws), the event stream (/sse) and the routes the
// socket layer may answer on the io thread (/api/publish). The socket layer
// asks it which layer serves a request (`outside_actor`); the connection
// actor asks it for the handler (`dispatch`). Handlers run inside the
// connection actor that received the request; they may ask other actors and
// answer later, through the responder, exactly once. The router owns no
// state beyond the route table, built once at start.
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_context.hpp"

#include "src/common/ids.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::redis {
class connection;
} // namespace switchboard::redis

namespace switchboard::http {

struct route_call;

/// What a connection offers handlers that turn it into something other than
/// request and response: today GET /sse, which makes it an event stream.
/// The connection actor implements it, since it owns the stream's state.
class stream_host {
public:
  virtual void open_event_stream(route_call& call) = 0;

protected:
  ~stream_host() = default;
};

/// Sends the response to one request. Copyable; the first call wins. If no
/// copy ever answers (a handler bug), the last copy to go answers 500, so a
/// client is never left waiting.
class responder {
public:
  explicit responder(http_sink_ptr sink);
  void operator()(http_response response) const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

/// What a matched route hands its handler.
struct route_call {
  caf::event_based_actor* self;
  node_context_ptr node;
  http_request request;
  std::string path;                // decoded path
  std::vector<std::string> params; // values of the `:name` segments
  std::vector<std::pair<std::string, std::string>> query; // decoded
  responder respond;
  stream_host* host = nullptr; // the connection, for GET /sse

  /// The first value of query parameter `name`.
  const std::string* query_param(std::string_view name) const;
};

using handler_fn = void (*)(route_call& call);
/// A handler the socket layer runs on the io thread, whose whole work is
/// one Redis command on that thread's connection (see io_routes).
using io_handler_fn = void (*)(route_call& call, redis::connection& redis);

/// Which layer serves a route (docs/architecture.md, "Layers").
enum class route_layer : std::uint8_t {
  actor,     // the connection actor runs the handler
  io_thread, // the socket layer runs the io handler where it can (io_routes);
             // elsewhere the connection actor runs the handler
  websocket, // a handshake is upgraded by the socket layer; any other
             // request to the path gets the handler (426)
};

/// What the socket layer learns of a request from the table.
struct route_match {
  route_layer layer = route_layer::actor;
  io_handler_fn io_handler = nullptr;
  std::string_view pattern; // the route's path, e.g. "/ws"
  const std::vector<std::string>* query = nullptr; // the parameters taken
};

class router {
public:
  /// Registers `pattern` such as "/api/books/:id" for `method`, taking the
  /// query parameters named in `query` (and access_token, a credential).
  /// Any other parameter, or one given twice, is a 400 that names it: a
  /// request has one spelling, so junk query strings cannot make the node
  /// keep (cache, hot responses) one copy of an answer per spelling.
  void add(std::string method, std::string_view pattern, handler_fn handler,
           std::vector<std::string> query = {});

  /// The same for a route the socket layer may answer on the io thread with
  /// `on_io`, or hand to the actor's `handler` where it cannot. The pattern
  /// is literal (no `:name`): the socket layer compares the raw path.
  void add_io(std::string method, std::string_view pattern, handler_fn handler,
              io_handler_fn on_io, std::vector<std::string> query = {});

  /// A WebSocket endpoint: GET handshakes to `pattern` (literal) are upgraded
  /// by the socket layer; `handler` answers any other request to it.
  void add_websocket(std::string_view pattern, handler_fn handler,
                     std::vector<std::string> query = {});

  /// Runs `handler` for GET/HEAD requests no route matches (static files).
  void fallback(handler_fn handler) { fallback_ = handler; }

  /// Finds the handler for `call.request` and runs it, or answers 404/405/400.
  void dispatch(route_call& call) const;

  /// For the socket layer, on every request: the route that `method` and the
  /// raw `target` reach if it is served outside the actor, else a match with
  /// layer `actor`. Compares only those few literal routes, without
  /// decoding: a target that spells such a path in percent-escapes reaches
  /// the actor, whose dispatch decodes it and runs the route's handler.
  route_match outside_actor(std::string_view method,
                            std::string_view target) const;

  /// The error message for a query parameter of `target` that `match`'s
  /// route does not take (or that comes twice, or a malformed target), or
  /// empty when the query is one the route takes.
  static std::string refused_query(const route_match& match,
                                   std::string_view target);

private:
  struct route {
    std::string method;
    std::vector<std::string> segments; // ":x" matches any one segment
    handler_fn handler;
    std::vector<std::string> query; // the parameters it takes
    route_layer layer = route_layer::actor;
    io_handler_fn io_handler = nullptr;
    std::string pattern;
  };
  std::vector<route> routes_;
  std::vector<std::size_t> outside_actor_; // routes_ served by the socket layer
  handler_fn fallback_ = nullptr;
};

/// The node's route table (routes.cpp).
const router& node_routes();

/// Reads path parameter `index` as an id, or answers 400 and returns false.
bool id_param(route_call& call, size_t index, int64_t& id);

/// Reads query parameter `name` as an integer from `min` to `max` (absent:
/// `fallback`), or answers 400 and returns false.
bool int_query(route_call& call, std::string_view name, int64_t min,
               int64_t max, int64_t fallback, int64_t& out);

/// Reads query parameter `name` as an id (absent: 0), or answers 400.
bool id_query(route_call& call, std::string_view name, int64_t& out);

} // namespace switchboard::http

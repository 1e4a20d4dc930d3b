// router — maps a request's method and path to its handler. Handlers run
// inside the connection actor that received the request; they may ask other
// actors and answer later, through the responder, exactly once. The router
// owns no state beyond the route table, built once at start.
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_context.hpp"

#include "src/common/ids.hpp"

#include <caf/event_based_actor.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::http {

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

  /// The first value of query parameter `name`.
  const std::string* query_param(std::string_view name) const;
};

using handler_fn = void (*)(route_call& call);

class router {
public:
  /// Registers `pattern` such as "/api/books/:id" for `method`, taking the
  /// query parameters named in `query` (and access_token, a credential).
  /// Any other parameter, or one given twice, is a 400 that names it: a
  /// request has one spelling, so junk query strings cannot make the node
  /// keep (cache, hot responses) one copy of an answer per spelling.
  void add(std::string method, std::string_view pattern, handler_fn handler,
           std::vector<std::string> query = {});

  /// Runs `handler` for GET/HEAD requests no route matches (static files).
  void fallback(handler_fn handler) { fallback_ = handler; }

  /// Finds the handler for `call.request` and runs it, or answers 404/405/400.
  void dispatch(route_call& call) const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments; // ":x" matches any one segment
    handler_fn handler;
    std::vector<std::string> query; // the parameters it takes
  };
  std::vector<route> routes_;
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

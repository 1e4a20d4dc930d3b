// io_routes — the node's switchboard::io_routes: the requests answered on
// the io thread without the connection actor (see include/switchboard/
// http.hpp for why): the routes the table adds with router::add_io, today
// only POST /api/publish.
// Must never: block, touch an actor's state, or take a request whose
// handling needs more than one Redis command (those go to the actors,
// which own timeouts, retries and ordering).
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_context.hpp"

#include <memory>

namespace switchboard::redis {
class connection;
} // namespace switchboard::redis

namespace switchboard::http {

class node_io_routes : public io_routes {
public:
  node_io_routes(node_context_ptr node,
                 std::shared_ptr<redis::connection> redis)
      : node_(std::move(node)), redis_(std::move(redis)) {}

  bool take(http_request& request, const http_sink_ptr& sink) override;

private:
  node_context_ptr node_;
  std::shared_ptr<redis::connection> redis_;
};

} // namespace switchboard::http

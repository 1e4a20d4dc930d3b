// io_routes — see io_routes.hpp. Which requests it takes is the route
// table's to say (routes.cpp, router::add_io), not this file's.
#include "src/http/io_routes.hpp"

#include "src/http/errors.hpp"
#include "src/http/router.hpp"
#include "src/redis/redis_connection.hpp"

namespace switchboard::http {

bool node_io_routes::take(http_request& request, const http_sink_ptr& sink) {
  auto route = node_routes().outside_actor(request.method, request.target);
  if (route.layer != route_layer::io_thread)
    return false;
  responder respond{sink};
  auto refusal = router::refused_query(route, request.target);
  if (!refusal.empty()) {
    respond(bad_request(refusal));
    return true;
  }
  route_call call{
      nullptr, node_, std::move(request), std::string{route.pattern},
      {},      {},    std::move(respond)};
  route.io_handler(call, *redis_);
  return true;
}

} // namespace switchboard::http

// io_routes — see io_routes.hpp.
#include "src/http/io_routes.hpp"

#include "src/http/handlers.hpp"
#include "src/http/router.hpp"
#include "src/redis/redis_connection.hpp"

namespace switchboard::http {

bool node_io_routes::take(http_request& request, const http_sink_ptr& sink) {
  if (request.method != "POST")
    return false;
  std::string_view target{request.target};
  if (target.substr(0, target.find('?')) != "/api/publish")
    return false;
  route_call call{nullptr, node_, std::move(request), "/api/publish",
                  {},      {},    responder{sink}};
  publish_on_io(call, *redis_);
  return true;
}

} // namespace switchboard::http

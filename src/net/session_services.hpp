// session_services — what the listener hands every session besides its
// socket: the io thread's delivery lane, the requests answered on the io
// thread, the hot responses, and the per-address allowance of
// unauthenticated requests. All are optional (null: not used).
// Must never: own anything a session could reach after the io thread stops.
#pragma once

#include "switchboard/http.hpp"

#include "src/net/delivery_lane.hpp"
#include "src/net/hot_responses.hpp"
#include "src/net/unauthenticated_requests.hpp"

#include <memory>

namespace switchboard::net {

struct session_services {
  std::shared_ptr<io_delivery_lane> lane; // one io thread only
  std::shared_ptr<io_routes> routes;
  std::shared_ptr<hot_responses> hot; // one io thread only
  std::shared_ptr<unauthenticated_requests> unauthenticated;
};

} // namespace switchboard::net

// routes — the node's route table: every endpoint it serves, in one list.
#include "src/http/handlers.hpp"
#include "src/http/router.hpp"

namespace switchboard::http {

const router& node_routes() {
  static const router table = [] {
    router r;
    r.add("GET", "/api/books/:id", get_book);
    r.add("GET", "/healthz", get_healthz);
    r.add("GET", "/readyz", get_readyz);
    r.add("GET", "/stats", get_stats);
    r.add("GET", "/metrics", get_metrics);
    return r;
  }();
  return table;
}

} // namespace switchboard::http

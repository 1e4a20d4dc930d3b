// books_handlers — the book endpoints of the contract's "Cached reads".
// Validates input, then hands off to cached_read (reads) or a db_job (writes).
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/store/books.hpp"

namespace switchboard::http {

void get_book(route_call& call) {
  int64_t id = 0;
  if (!parse_id(call.params[0], id)) {
    call.respond(bad_request("id: must be a positive 64-bit integer"));
    return;
  }
  serve_cached(call, "book:" + std::to_string(id), store::load_book(id),
               "book");
}

} // namespace switchboard::http

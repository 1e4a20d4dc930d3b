// books — db_jobs that read and write books. Each job is a pure function of
// its arguments and the connection it is given; it returns the contract's
// JSON shape and never touches the cache (callers decide what to
// invalidate). Inputs arrive validated.
#pragma once

#include "switchboard/db.hpp"

#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::store {

/// `book`; not_found when there is no such book.
db_job load_book(int64_t id);

/// {items:[book], next}: published books with id > after, ascending.
db_job load_books_page(int64_t after, int64_t limit);

struct book_fields {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<bool> published;
};

/// 201-style: the new book.
db_job create_book(int64_t author_id, book_fields fields,
                   std::optional<idempotency_claim> claim);

/// The updated book; not_found, or forbidden unless `user_id` is its author.
db_job update_book(int64_t id, int64_t user_id, book_fields fields);

} // namespace switchboard::store

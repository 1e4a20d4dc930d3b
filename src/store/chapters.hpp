// chapters — db_jobs that read and write chapters (see books.hpp for the
// rules every job follows).
#pragma once

#include "switchboard/db.hpp"

#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::store {

/// {id, book_id, number, title, body, updated_at}; not_found if absent.
db_job load_chapter(int64_t id);

/// {items:[{id, book_id, number, title, updated_at}]}; not_found when the
/// book does not exist.
/// A book's chapters by number, at most `max_items` of them (the object
/// says "truncated": true when there were more).
db_job load_chapter_list(int64_t book_id, std::size_t max_items);

/// The new chapter (number = the book's next); bumps chapter_count.
/// not_found / forbidden unless `user_id` is the book's author.
db_job create_chapter(int64_t book_id, int64_t user_id, std::string title,
                      std::string body, std::optional<idempotency_claim> claim);

/// The updated chapter; not_found / forbidden as above.
db_job update_chapter(int64_t id, int64_t user_id,
                      std::optional<std::string> title,
                      std::optional<std::string> body);

} // namespace switchboard::store

// books — db_jobs that read and write books. Each job is a pure function of
// its arguments and the connection it is given; it returns the contract's
// JSON shape and never touches the cache (callers decide what to invalidate).
#pragma once

#include "switchboard/db.hpp"

#include <cstdint>

namespace switchboard::store {

/// Loads `book` {id, author_id, title, description, published,
/// chapter_count, updated_at}; not_found when there is no such book.
db_job load_book(int64_t id);

} // namespace switchboard::store

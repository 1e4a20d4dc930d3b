// follows — db_jobs to follow and unfollow a book (idempotent), keeping the
// author's follower_count (the number of follows of their books) in step.
// Never touches Redis.
#pragma once

#include "switchboard/db.hpp"

#include <cstdint>

namespace switchboard::store {

/// {changed, author_id}; not_found for an unknown book.
db_job follow_book(int64_t user_id, int64_t book_id);

/// {changed, author_id}; not_found for an unknown book.
db_job unfollow_book(int64_t user_id, int64_t book_id);

} // namespace switchboard::store

// comments — db_jobs for a chapter's comments: a page (newest first, keyset
// by id) and posting one, which also records the book author's
// notification in the same transaction. Inputs arrive validated; never
// touches Redis or the cache.
#pragma once

#include "switchboard/db.hpp"

#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <string>

namespace switchboard::store {

/// {items:[comment], next}: comments with id < before (0: no bound), newest
/// first; not_found for an unknown chapter.
db_job load_comments(int64_t chapter_id, int64_t before, int64_t limit);

/// {comment, book_id, notify:{user_id, notification} | null}; not_found for
/// an unknown chapter.
db_job create_comment(int64_t chapter_id, int64_t user_id, std::string body,
                      std::optional<idempotency_claim> claim);

} // namespace switchboard::store

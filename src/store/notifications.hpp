// notifications — db_jobs over the notifications table, the record of every
// notification (the Redis feed is a cache of its newest rows). Never
// touches Redis.
#pragma once

#include "switchboard/db.hpp"

#include <cstdint>

namespace switchboard::store {

/// {items:[notification] (newest `limit`), unread}
db_job load_notifications(int64_t user_id, int64_t limit);

/// {changed (it was unread), unread}; not_found unless it is the user's.
db_job mark_notification_read(int64_t user_id, int64_t id);

} // namespace switchboard::store

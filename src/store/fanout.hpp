// fanout — db_jobs behind the background fan-out of new-chapter
// notifications: claim a pending job (a lease, so a dead node's job passes
// to another) and notify its next batch of followers, advancing the job's
// cursor in the same transaction (each follower notified exactly once).
// Never touches Redis.
#pragma once

#include "switchboard/db.hpp"

#include <cstdint>
#include <string>

namespace switchboard::store {

/// {job_id} of a pending job now leased to `owner`; not_found when none is.
db_job claim_fanout_job(std::string owner, int64_t lease_s);

/// {done, notified:[{user_id, notification}]}: the next `batch` followers of
/// the job's book get their notification row. conflict when the lease has
/// passed to another owner; not_found when the job is done.
db_job run_fanout_batch(int64_t job_id, std::string owner, int64_t batch,
                        int64_t lease_s);

/// Deletes jobs finished more than a day ago (the table stays small).
db_job forget_done_fanout();

} // namespace switchboard::store

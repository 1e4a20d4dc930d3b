// writes — the one way a handler changes data: run the db_job, map its
// status to the contract's errors, and on success invalidate the affected
// cache groups on every node before answering (so the next read anywhere
// sees the write).
#pragma once

#include "switchboard/db.hpp"

#include "src/http/events.hpp"
#include "src/http/router.hpp"

#include <functional>
#include <string>
#include <vector>

namespace switchboard::http {

/// The contract's error response for a failed db_result.
http_response error_for(const db_result& result);

/// The cache groups a write touched. `written` is the written row, or null
/// when the outcome is unknown (the database did not answer in time: the
/// commit may have happened) — then name every group you can.
using groups_of =
    std::function<std::vector<std::string>(const boost::json::value* written)>;

/// Runs `job`; on success invalidates `groups(&value)` and answers
/// `ok_status` with the value as the body. When the outcome is unknown (the
/// commit was in doubt, or the database never answered) it still
/// invalidates `groups(nullptr)` before answering 503; a write that surely
/// failed invalidates nothing.
void run_write(route_call& call, db_job job, unsigned ok_status,
               groups_of groups);

/// Once a write has committed and its invalidations went out: emits its
/// events and builds the response (the job's value may carry more than the
/// client is shown).
using on_written = std::function<http_response(boost::json::value& written)>;

/// As run_write, with `after` building the response.
void run_write(route_call& call, db_job job, groups_of groups,
               on_written after);

/// The answer of a write made with an Idempotency-Key (a job of
/// store::write_job with a claim): `respond` builds the response from the
/// write's result, the first time and for every replay alike; `emit` runs
/// only the first time, after the invalidations (events, notifications);
/// the answer waits for whatever `emit` gives the hold (feed changes).
/// A replay invalidates nothing, emits nothing and says
/// `Idempotent-Replayed: true`.
struct write_answer {
  std::function<http_response(const boost::json::value& written)> respond;
  std::function<void(const boost::json::value& written,
                     const answer_hold& hold)>
      emit;
};

/// As run_write, for a write that may be a replay.
void run_write(route_call& call, db_job job, groups_of groups,
               write_answer answer);

/// A JSON response with `status`, not to be cached.
http_response json_response(unsigned status, const boost::json::value& body);

/// Runs `job` and hands a successful result to `then`; failures answer.
void run_job(route_call& call, db_job job,
             std::function<void(db_result&)> then);

} // namespace switchboard::http

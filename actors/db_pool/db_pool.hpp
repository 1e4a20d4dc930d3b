// db_pool — the node's single entry point to PostgreSQL. Owns the db_worker
// actors and bounded queues of jobs waiting for an idle worker, so a slow
// database turns into quick `unavailable` answers instead of unbounded
// memory. It never runs a query itself.
//
// Jobs that hash a password (login, register: ~20 ms of CPU each, on
// purpose) wait in a queue of their own: at most `hash_concurrency` workers
// run them at once, so a login flood leaves the other workers to every
// other job, and one that waited past `hash_queue_deadline` is answered
// `unavailable` without ever running (its client retries; it does not add
// to a backlog). Hashing stays on the db workers rather than a thread pool
// of its own because a login needs the stored hash first: one job reads it
// and verifies it on the same thread, with no second hop and no second
// queue to bound, and the concurrency cap is the only new rule.
#pragma once

#include "switchboard/db.hpp"
#include "switchboard/node_stats.hpp"

#include "actors/db_worker/db_worker.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace switchboard {

struct db_pool_config {
  db_worker_config worker;
  std::size_t workers = 4;
  std::size_t queue_limit = 2048; // both queues together
  /// Workers that may run hash jobs at once; at most workers - 1 (when there
  /// are two or more), so ordinary jobs always keep a worker.
  std::size_t hash_concurrency = 2;
  std::chrono::milliseconds hash_queue_deadline{2000};
  /// Tests only: makes a worker for `pool` instead of a real db_worker. A
  /// worker answers `(db_run_atom, db_job)` and then sends `(db_idle_atom)`
  /// to the pool.
  std::function<caf::actor(caf::actor_system&, caf::actor pool)> spawn_worker;
};

/// Accepts `(db_run_atom, db_job) -> db_result` and
/// `(db_run_atom, db_hash_job) -> db_result`; answers `unavailable` at once
/// when the queues are full, and a hash job that could not start within the
/// deadline. Workers end with the pool (linked).
caf::actor spawn_db_pool(caf::actor_system& system,
                         std::shared_ptr<node_stats> stats,
                         db_pool_config config);

/// The number of workers that may hash at once for `config`.
std::size_t hash_slots(const db_pool_config& config);

} // namespace switchboard

// db_worker — owns one PostgreSQL connection and runs db_jobs on it, one at
// a time, on its own thread (spawned detached: libpqxx blocks). Spawned and
// fed only by db_pool; it never talks to sockets or Redis.
#pragma once

#include "switchboard/node_stats.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct db_worker_config {
  std::string database_url;
  std::chrono::milliseconds statement_timeout{3000};
  std::chrono::milliseconds fault_delay{0}; // test-only: slow every job down
  /// Unit tests only: run on the scheduler (deterministic in tests) rather
  /// than on a thread of its own. A node's workers are always detached.
  bool detached = true;
};

/// Spawns a worker that reports `(db_idle_atom)` to `pool` after every job.
/// Accepts `(db_run_atom, db_job) -> db_result`.
caf::actor spawn_db_worker(caf::actor_system& system,
                           std::shared_ptr<node_stats> stats,
                           db_worker_config config, caf::actor pool);

} // namespace switchboard

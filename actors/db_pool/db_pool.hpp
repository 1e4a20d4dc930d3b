// db_pool — the node's single entry point to PostgreSQL. Owns the db_worker
// actors and a bounded queue of jobs waiting for an idle worker, so a slow
// database turns into quick `unavailable` answers instead of unbounded
// memory. It never runs a query itself.
#pragma once

#include "switchboard/node_stats.hpp"

#include "actors/db_worker/db_worker.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace switchboard {

struct db_pool_config {
  db_worker_config worker;
  std::size_t workers = 4;
  std::size_t queue_limit = 2048;
};

/// Accepts `(db_run_atom, db_job) -> db_result`; answers `unavailable` at
/// once when the queue is full. Workers end with the pool (linked).
caf::actor spawn_db_pool(caf::actor_system& system,
                         std::shared_ptr<node_stats> stats,
                         db_pool_config config);

} // namespace switchboard

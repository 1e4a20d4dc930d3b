// fanout — one actor per node that sends new-chapter notifications to a
// book's followers in the background, so a chapter with 100k followers
// never holds up its request or the node. Jobs live in PostgreSQL
// (fanout_jobs, written with the chapter); any node claims one under a
// lease and works through it in batches: each batch's notification rows and
// the job's cursor commit together, then the batch is added to the
// followers' feeds and pushed — the next batch starts only when Redis has
// taken this one (bounded memory, no flood). Never blocks: the database and
// Redis are reached only through db_pool and redis_bridge.
#pragma once

#include "switchboard/node_stats.hpp"

#include "src/live/publisher.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace switchboard {

struct fanout_config {
  caf::actor feed_keeper; // told of a follower's feed change that failed
  caf::actor db_pool;
  caf::actor redis_bridge;
  std::string node_id; // the lease owner's name
  std::string key_prefix;
  int64_t batch_size = 1000;
  int64_t lease_s = 30;
  std::chrono::milliseconds poll{5000};
  std::chrono::milliseconds db_timeout{5000};
  std::chrono::milliseconds redis_timeout{1000};
  live::history_settings history;
};

/// Accepts `(fanout_poke_atom)`: "there may be work" (a chapter was added).
/// Also polls every `poll` for jobs whose owner went silent.
caf::actor spawn_fanout(caf::actor_system& system,
                        std::shared_ptr<node_stats> stats,
                        fanout_config config);

} // namespace switchboard

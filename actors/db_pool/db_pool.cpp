// db_pool — see db_pool.hpp. Jobs are handed to workers with delegate, so a
// worker answers the original requester directly and the pool stays off the
// reply path.
#include "actors/db_pool/db_pool.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"
#include "switchboard/instrumented.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <vector>

namespace switchboard {

namespace {

struct pending_job {
  caf::response_promise promise;
  db_job job;
};

struct db_pool_state {
  static inline const char* name = "db_pool";
  std::unique_ptr<kind_counter> counter;
  std::vector<caf::actor> idle;
  std::deque<pending_job> queue;
  std::size_t queue_limit = 0;
  bool warned_full = false;
};

using db_pool_actor = instrumented_actor<db_pool_state>;

caf::behavior db_pool_impl(db_pool_actor* self,
                           std::shared_ptr<node_stats> stats,
                           db_pool_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(stats, actor_kind::db_pool);
  st.queue_limit = config.queue_limit;
  for (std::size_t i = 0; i < config.workers; ++i) {
    auto worker = spawn_db_worker(self->system(), stats, config.worker,
                                  caf::actor_cast<caf::actor>(self));
    self->link_to(worker);
    st.idle.push_back(worker);
  }
  return {
      [=](db_run_atom, db_job& job) -> caf::result<db_result> {
        auto& st = self->state;
        if (!st.idle.empty()) {
          auto worker = std::move(st.idle.back());
          st.idle.pop_back();
          auto promise = self->make_response_promise();
          promise.delegate(worker, db_run_atom::value, std::move(job));
          return promise;
        }
        if (st.queue.size() >= st.queue_limit) {
          if (!st.warned_full)
            spdlog::warn("db_pool: queue full ({} jobs), rejecting {}",
                         st.queue.size(), job.name);
          st.warned_full = true;
          return db_result{db_status::unavailable, {}, "database busy"};
        }
        auto promise = self->make_response_promise();
        st.queue.push_back({promise, std::move(job)});
        return promise;
      },
      [=](db_idle_atom) {
        auto& st = self->state;
        auto worker = caf::actor_cast<caf::actor>(self->current_sender());
        if (!worker)
          return;
        if (st.queue.empty()) {
          st.idle.push_back(std::move(worker));
          st.warned_full = false;
          return;
        }
        auto next = std::move(st.queue.front());
        st.queue.pop_front();
        next.promise.delegate(worker, db_run_atom::value, std::move(next.job));
      },
  };
}

} // namespace

caf::actor spawn_db_pool(caf::actor_system& system,
                         std::shared_ptr<node_stats> stats,
                         db_pool_config config) {
  return system.spawn(db_pool_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

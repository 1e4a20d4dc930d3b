// db_pool — see db_pool.hpp. Jobs are handed to workers with delegate, so a
// worker answers the original requester directly and the pool stays off the
// reply path. Two queues, one rule: an idle worker takes the oldest job
// waiting, a hash job only while fewer than hash_slots() workers hash.
// Time comes from the actor clock, so tests drive it.
#include "actors/db_pool/db_pool.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"
#include "switchboard/instrumented.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <set>
#include <vector>

namespace switchboard {

namespace {

/// Sent to itself when the oldest hash job reaches its deadline.
using hash_sweep_atom = caf::atom_constant<caf::atom("hashsweep")>;

using time_point = caf::actor_clock::time_point;

struct pending_job {
  caf::response_promise promise;
  db_job job;
  time_point since; // when it arrived
  bool hashing = false;
};

struct db_pool_state {
  static inline const char* name = "db_pool";
  std::unique_ptr<kind_counter> counter;
  std::vector<caf::actor> idle;
  std::deque<pending_job> queue;      // ordinary jobs
  std::deque<pending_job> hash_queue; // password hashing, oldest first
  std::set<caf::actor_addr> hashing;  // workers running a hash job now
  std::size_t queue_limit = 0;
  std::size_t hash_limit = 1;
  caf::timespan hash_deadline{0};
  bool sweep_scheduled = false;
  bool warned_full = false; // log a full queue once per episode
  bool warned_late = false; // ... and hash jobs past their deadline
};

using db_pool_actor = instrumented_actor<db_pool_state>;

/// Answers the hash jobs that waited past the deadline, without running
/// them: the front is the oldest, so it is the only one to look at.
void expire_late(db_pool_actor* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  while (!st.hash_queue.empty() &&
         now - st.hash_queue.front().since >= st.hash_deadline) {
    if (!st.warned_late)
      spdlog::warn("db_pool: password hashing saturated ({} waiting, {} "
                   "hashing): jobs past {} ms are answered 503",
                   st.hash_queue.size(), st.hashing.size(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       st.hash_deadline)
                       .count());
    st.warned_late = true;
    st.hash_queue.front().promise.deliver(
        db_result{db_status::unavailable, {}, "password hashing is busy"});
    st.hash_queue.pop_front();
  }
}

void schedule_sweep(db_pool_actor* self) {
  auto& st = self->state;
  if (st.sweep_scheduled || st.hash_queue.empty())
    return;
  st.sweep_scheduled = true;
  auto due =
      st.hash_queue.front().since + st.hash_deadline - self->clock().now();
  self->delayed_send(
      self, std::max<caf::timespan>(due, std::chrono::microseconds{100}),
      hash_sweep_atom::value);
}

/// Hands waiting jobs to idle workers, oldest first.
void dispatch(db_pool_actor* self) {
  auto& st = self->state;
  expire_late(self);
  while (!st.idle.empty()) {
    bool can_hash = !st.hash_queue.empty() && st.hashing.size() < st.hash_limit;
    if (!can_hash && st.queue.empty())
      break;
    auto* from = &st.queue;
    if (can_hash && (st.queue.empty() ||
                     st.hash_queue.front().since < st.queue.front().since))
      from = &st.hash_queue;
    auto next = std::move(from->front());
    from->pop_front();
    auto worker = std::move(st.idle.back());
    st.idle.pop_back();
    if (next.hashing)
      st.hashing.insert(worker.address());
    next.promise.delegate(worker, db_run_atom::value, std::move(next.job));
  }
  if (st.queue.size() + st.hash_queue.size() < st.queue_limit / 2)
    st.warned_full = false;
  if (st.hash_queue.empty())
    st.warned_late = false;
  schedule_sweep(self);
}

caf::result<db_result> enqueue(db_pool_actor* self, db_job& job, bool hashing) {
  auto& st = self->state;
  if (st.queue.size() + st.hash_queue.size() >= st.queue_limit) {
    if (!st.warned_full)
      spdlog::warn("db_pool: queue full ({} jobs), rejecting {}",
                   st.queue.size() + st.hash_queue.size(), job.name);
    st.warned_full = true;
    return db_result{db_status::unavailable, {}, "database busy"};
  }
  auto promise = self->make_response_promise();
  auto& into = hashing ? st.hash_queue : st.queue;
  into.push_back({promise, std::move(job), self->clock().now(), hashing});
  dispatch(self);
  return promise;
}

caf::behavior db_pool_impl(db_pool_actor* self,
                           std::shared_ptr<node_stats> stats,
                           db_pool_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(stats, actor_kind::db_pool);
  st.queue_limit = config.queue_limit;
  st.hash_limit = hash_slots(config);
  st.hash_deadline = config.hash_queue_deadline;
  auto me = caf::actor_cast<caf::actor>(self);
  for (std::size_t i = 0; i < config.workers; ++i) {
    auto worker = config.spawn_worker ? config.spawn_worker(self->system(), me)
                                      : spawn_db_worker(self->system(), stats,
                                                        config.worker, me);
    self->link_to(worker);
    st.idle.push_back(worker);
  }
  return {
      [=](db_run_atom, db_job& job) -> caf::result<db_result> {
        return enqueue(self, job, false);
      },
      [=](db_run_atom, db_hash_job& hash) -> caf::result<db_result> {
        return enqueue(self, hash.job, true);
      },
      [=](db_idle_atom) {
        auto& st = self->state;
        auto worker = caf::actor_cast<caf::actor>(self->current_sender());
        if (!worker)
          return;
        st.hashing.erase(worker.address());
        st.idle.push_back(std::move(worker));
        dispatch(self);
      },
      [=](hash_sweep_atom) {
        self->state.sweep_scheduled = false;
        dispatch(self);
      },
  };
}

} // namespace

std::size_t hash_slots(const db_pool_config& config) {
  if (config.workers < 2)
    return 1; // one worker: hashing and the rest share it
  return std::clamp<std::size_t>(config.hash_concurrency, 1,
                                 config.workers - 1);
}

caf::actor spawn_db_pool(caf::actor_system& system,
                         std::shared_ptr<node_stats> stats,
                         db_pool_config config) {
  return system.spawn(db_pool_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

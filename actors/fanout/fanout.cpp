// fanout — see fanout.hpp. One job at a time per node; several nodes share
// the pending jobs through their leases. A batch that fails (database or
// Redis away) is retried from the job's cursor once the lease has run out:
// followers already committed are never notified twice, and a push that
// did not reach Redis is the only thing that can be missed (the
// notification itself is in PostgreSQL and the feed is rebuilt from it).
#include "actors/fanout/fanout.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "src/live/notification_feed.hpp"
#include "src/store/fanout.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace switchboard {

namespace {

struct fanout_state {
  static inline const char* name = "fanout";
  std::unique_ptr<kind_counter> counter;
  fanout_config config;
  bool busy = false; // claiming, or working on a job
  int64_t job_id = 0;
};

using fanout_actor = instrumented_actor<fanout_state>;

fanout_stats& figures(fanout_actor* self) {
  return self->state.counter->stats().fanout;
}

void try_claim(fanout_actor* self);

void finish_job(fanout_actor* self, bool claim_next) {
  auto& st = self->state;
  if (st.job_id != 0)
    figures(self).running.fetch_sub(1, std::memory_order_relaxed);
  st.job_id = 0;
  st.busy = false;
  if (claim_next)
    try_claim(self);
}

void run_batch(fanout_actor* self);

/// Adds each notification to its user's feed and pushes it; runs the next
/// batch once Redis has answered every command.
void deliver_batch(fanout_actor* self, const boost::json::array& notified,
                   bool done) {
  auto& st = self->state;
  const auto& cfg = st.config;
  auto remaining = std::make_shared<size_t>(notified.size() * 2);
  auto failed = std::make_shared<size_t>(0);
  auto next = [self, done, failed] {
    if (*failed > 0)
      spdlog::warn("fanout: {} notification pushes of job {} failed", *failed,
                   self->state.job_id);
    if (done) {
      bump(figures(self).jobs_done);
      finish_job(self, true);
    } else {
      run_batch(self);
    }
  };
  if (notified.empty()) {
    next();
    return;
  }
  auto answered = [remaining, failed, next](bool ok) {
    if (!ok)
      ++*failed;
    if (--*remaining == 0)
      next();
  };
  for (auto& item : notified) {
    auto user_id = item.at("user_id").as_int64();
    const auto& notification = item.at("notification");
    auto json = boost::json::serialize(notification);
    boost::json::object hints{
        {"invalidate",
         boost::json::array{boost::json::array{"me", "notifications"}}}};
    // A feed change that failed (or may have, half-way) is repaired by the
    // feed_keeper: the follower's feed is dropped and rebuilt on its next
    // read. (Counted in the batch's one warning, not logged per follower.)
    auto feed_failed = [keeper = cfg.feed_keeper, user_id, answered] {
      caf::anon_send(keeper, feed_suspect_atom::value, user_id);
      answered(false);
    };
    self->request(cfg.redis_bridge, cfg.redis_timeout, redis_cmd_atom::value,
                  live::feed_push_command(cfg.key_prefix, user_id, json))
        .then(
            [answered, feed_failed](redis_reply& reply) {
              if (reply.ok())
                answered(true);
              else
                feed_failed();
            },
            [feed_failed](caf::error&) { feed_failed(); });
    self->request(cfg.redis_bridge, cfg.redis_timeout, redis_cmd_atom::value,
                  live::publish_command(
                      cfg.key_prefix, "user:" + std::to_string(user_id),
                      "notification.created", json,
                      boost::json::serialize(hints), cfg.history))
        .then([answered](redis_reply& reply) { answered(reply.ok()); },
              [answered](caf::error&) { answered(false); });
  }
}

void run_batch(fanout_actor* self) {
  auto& st = self->state;
  const auto& cfg = st.config;
  self->request(cfg.db_pool, cfg.db_timeout + std::chrono::seconds{1},
                db_run_atom::value,
                store::run_fanout_batch(st.job_id, cfg.node_id, cfg.batch_size,
                                        cfg.lease_s))
      .then(
          [self](db_result& result) {
            if (result.status != db_status::ok) {
              // not_found: finished elsewhere; conflict: the lease passed on
              // (we were too slow); unavailable: retried after the lease.
              if (result.status == db_status::unavailable) {
                bump(figures(self).failures);
                spdlog::warn("fanout: job {} paused: {}", self->state.job_id,
                             result.message);
              }
              finish_job(self, false);
              return;
            }
            bump(figures(self).batches);
            auto& out = result.value.as_object();
            auto& notified = out.at("notified").as_array();
            bump(figures(self).notified, notified.size());
            deliver_batch(self, notified, out.at("done").as_bool());
          },
          [self](caf::error& e) {
            bump(figures(self).failures);
            spdlog::warn("fanout: job {} paused: {}", self->state.job_id,
                         caf::to_string(e));
            finish_job(self, false);
          });
}

void try_claim(fanout_actor* self) {
  auto& st = self->state;
  if (st.busy)
    return;
  st.busy = true;
  const auto& cfg = st.config;
  self->request(cfg.db_pool, cfg.db_timeout + std::chrono::seconds{1},
                db_run_atom::value,
                store::claim_fanout_job(cfg.node_id, cfg.lease_s))
      .then(
          [self](db_result& result) {
            auto& st = self->state;
            if (result.status != db_status::ok) {
              st.busy = false; // nothing pending (or the database is away)
              return;
            }
            st.job_id = result.value.at("job_id").as_int64();
            figures(self).running.fetch_add(1, std::memory_order_relaxed);
            run_batch(self);
          },
          [self](caf::error&) { self->state.busy = false; });
}

caf::behavior fanout_impl(fanout_actor* self, std::shared_ptr<node_stats> stats,
                          fanout_config config) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::fanout);
  st.config = std::move(config);
  self->send(self, tick_atom::value);
  self->send(self, cleanup_atom::value);
  return {
      [=](fanout_poke_atom) { try_claim(self); },
      [=](tick_atom) {
        try_claim(self);
        self->delayed_send(self, self->state.config.poll, tick_atom::value);
      },
      [=](cleanup_atom) {
        // Finished jobs are only history: drop those over a day old, so the
        // table holds what is pending plus about a day of finished jobs.
        const auto& cfg = self->state.config;
        self->request(cfg.db_pool, cfg.db_timeout + std::chrono::seconds{1},
                      db_run_atom::value, store::forget_done_fanout())
            .then([](db_result&) {}, [](caf::error&) {});
        self->delayed_send(self, std::chrono::hours{1}, cleanup_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_fanout(caf::actor_system& system,
                        std::shared_ptr<node_stats> stats,
                        fanout_config config) {
  return system.spawn(fanout_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

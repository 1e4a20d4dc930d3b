// feed_keeper — see feed_keeper.hpp. Drops go out at most drop_batch at a
// time; a user suspected again while its drop is in flight is dropped again
// afterwards (the later failure may have come after the drop).
#include "actors/feed_keeper/feed_keeper.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "src/live/notification_feed.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <set>

namespace switchboard {

namespace {

constexpr std::size_t drop_batch = 100;

struct feed_keeper_state {
  static inline const char* name = "feed_keeper";
  std::unique_ptr<kind_counter> counter;
  feed_keeper_config config;
  std::set<int64_t> suspects; // to drop
  std::set<int64_t> dropping; // drops in flight
  std::set<int64_t> again;    // suspected again while in flight
  bool tick_scheduled = false;
  bool warned_full = false;    // log a full set once per episode
  bool warned_failing = false; // ... and drops Redis refuses (an outage)
};

using feed_keeper_actor = instrumented_actor<feed_keeper_state>;

feed_stats& figures(feed_keeper_actor* self) {
  return self->state.counter->stats().feeds;
}

void schedule(feed_keeper_actor* self, std::chrono::milliseconds after) {
  auto& st = self->state;
  if (st.tick_scheduled)
    return;
  st.tick_scheduled = true;
  if (after.count() == 0)
    self->send(self, tick_atom::value);
  else
    self->delayed_send(self, after, tick_atom::value);
}

void suspect(feed_keeper_actor* self, int64_t user_id) {
  auto& st = self->state;
  if (st.dropping.count(user_id)) {
    st.again.insert(user_id);
    return;
  }
  if (st.suspects.size() + st.dropping.size() >= st.config.max_suspects &&
      !st.suspects.count(user_id)) {
    bump(figures(self).unrepaired);
    if (!st.warned_full)
      spdlog::error("feed_keeper: {} feeds await repair already; the feed of "
                    "user {} (and others until the backlog clears) can stay "
                    "short until it ages out (notification_feed_ttl_s)",
                    st.suspects.size() + st.dropping.size(), user_id);
    st.warned_full = true;
    return;
  }
  st.suspects.insert(user_id);
  figures(self).suspect.store(
      static_cast<int64_t>(st.suspects.size() + st.dropping.size()),
      std::memory_order_relaxed);
  schedule(self, std::chrono::milliseconds{0});
}

void finished(feed_keeper_actor* self, int64_t user_id,
              const std::string& failure) {
  auto& st = self->state;
  bool dropped = failure.empty();
  st.dropping.erase(user_id);
  bool suspected_again = st.again.erase(user_id) > 0;
  if (dropped)
    bump(figures(self).repaired);
  else if (!st.warned_failing) {
    // Once per episode: in an outage every drop fails, every retry_every.
    spdlog::warn("feed_keeper: feeds are not dropped yet ({}); retrying "
                 "every {} ms",
                 failure, st.config.retry_every.count());
    st.warned_failing = true;
  }
  if (!dropped || suspected_again)
    st.suspects.insert(user_id);
  auto waiting = st.suspects.size() + st.dropping.size();
  figures(self).suspect.store(static_cast<int64_t>(waiting),
                              std::memory_order_relaxed);
  if (waiting == 0) {
    if (st.warned_failing)
      spdlog::info("feed_keeper: every suspect feed is dropped");
    st.warned_full = false;
    st.warned_failing = false;
  }
  if (!st.suspects.empty())
    schedule(self,
             dropped ? std::chrono::milliseconds{0} : st.config.retry_every);
}

void drop_some(feed_keeper_actor* self) {
  auto& st = self->state;
  st.tick_scheduled = false;
  while (!st.suspects.empty() && st.dropping.size() < drop_batch) {
    auto user_id = *st.suspects.begin();
    st.suspects.erase(st.suspects.begin());
    st.dropping.insert(user_id);
    self->request(st.config.redis_bridge, st.config.redis_timeout,
                  redis_cmd_atom::value,
                  live::feed_drop_command(st.config.key_prefix, user_id))
        .then(
            [self, user_id](redis_reply& reply) {
              finished(self, user_id,
                       reply.ok()
                           ? std::string{}
                           : (reply.str.empty() ? "no reply" : reply.str));
            },
            [self, user_id](caf::error& e) {
              finished(self, user_id, caf::to_string(e));
            });
  }
}

caf::behavior feed_keeper_impl(feed_keeper_actor* self,
                               std::shared_ptr<node_stats> stats,
                               feed_keeper_config config) {
  self->state.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::feed_keeper);
  self->state.config = std::move(config);
  return {
      [=](feed_suspect_atom, int64_t user_id) { suspect(self, user_id); },
      [=](tick_atom) { drop_some(self); },
  };
}

} // namespace

caf::actor spawn_feed_keeper(caf::actor_system& system,
                             std::shared_ptr<node_stats> stats,
                             feed_keeper_config config) {
  return system.spawn(feed_keeper_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

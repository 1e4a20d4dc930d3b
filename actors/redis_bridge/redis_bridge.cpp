// redis_bridge — see redis_bridge.hpp. Replies arrive on the io thread; they
// come back into the actor as `(redis_rep_atom, id, reply)` messages, and
// only the actor itself fulfils its response promises (a promise must not be
// delivered from a foreign thread).
#include "actors/redis_bridge/redis_bridge.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace switchboard {

namespace {

struct redis_bridge_state {
  static inline const char* name = "redis_bridge";
  std::unique_ptr<kind_counter> counter;
  std::shared_ptr<redis::connection> commands;
  std::unordered_map<uint64_t, caf::response_promise> pending;
  uint64_t next_id = 1;
  std::size_t max_pending = 0;
};

using redis_bridge_actor = instrumented_actor<redis_bridge_state>;

/// Sends to the bridge from the io thread without keeping it alive.
auto reply_to(redis_bridge_actor* self) {
  return caf::actor_cast<caf::weak_actor_ptr>(self);
}

caf::behavior redis_bridge_impl(redis_bridge_actor* self,
                                std::shared_ptr<node_stats> stats,
                                std::shared_ptr<redis::connection> commands,
                                redis_bridge_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(std::move(stats),
                                              actor_kind::redis_bridge);
  st.commands = commands;
  st.max_pending = config.max_pending;
  commands->start([weak = reply_to(self)](bool up) {
    auto bridge = caf::actor_cast<caf::actor>(weak.lock());
    if (bridge && up)
      caf::anon_send(bridge, redis_up_atom::value);
    else if (bridge)
      caf::anon_send(bridge, redis_down_atom::value);
  });
  self->attach_functor([commands] { commands->stop(); });
  return {
      [=](redis_cmd_atom, redis_command& command) -> caf::result<redis_reply> {
        auto& st = self->state;
        if (st.pending.size() >= st.max_pending) {
          bump(st.counter->stats().cache.redis_errors);
          return redis_reply::unavailable_reply("too many redis commands");
        }
        auto id = st.next_id++;
        auto promise = self->make_response_promise();
        st.pending.emplace(id, promise);
        st.commands->send(std::move(command), [weak = reply_to(self),
                                               id](redis_reply reply) {
          if (auto bridge = caf::actor_cast<caf::actor>(weak.lock()))
            caf::anon_send(bridge, redis_rep_atom::value, id, std::move(reply));
        });
        return promise;
      },
      [=](redis_rep_atom, uint64_t id, redis_reply& reply) {
        auto& st = self->state;
        auto i = st.pending.find(id);
        if (i == st.pending.end())
          return;
        if (!reply.ok())
          bump(st.counter->stats().cache.redis_errors);
        i->second.deliver(std::move(reply));
        st.pending.erase(i);
      },
      [=](redis_up_atom) { self->state.counter->stats().redis_up = true; },
      // The connection logs the loss itself, once, with its cause.
      [=](redis_down_atom) { self->state.counter->stats().redis_up = false; },
  };
}

} // namespace

caf::actor spawn_redis_bridge(caf::actor_system& system,
                              std::shared_ptr<node_stats> stats,
                              std::shared_ptr<redis::connection> commands,
                              redis_bridge_config config) {
  return system.spawn(redis_bridge_impl, std::move(stats), std::move(commands),
                      std::move(config));
}

} // namespace switchboard

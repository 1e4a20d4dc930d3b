// redis_bridge — see redis_bridge.hpp. Replies and messages arrive on the io
// thread; they come back into the actor as messages, and only the actor
// itself fulfils its response promises (a promise must not be delivered from
// a foreign thread). Pub/Sub is at-most-once: a subscription that silently
// died would lose everything while health checks stay green, so the bridge
// publishes a probe to itself every probe_interval and reconnects the
// subscriber when one does not come back within probe_timeout.
#include "actors/redis_bridge/redis_bridge.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace switchboard {

namespace {

// The actor clock (steady in production), so unit tests can drive time.
using clock_type = caf::actor_clock;

struct redis_bridge_state {
  static inline const char* name = "redis_bridge";
  std::unique_ptr<kind_counter> counter;
  redis_bridge_config config;
  std::shared_ptr<redis_link> commands;
  std::shared_ptr<redis_link> subscriber;
  struct pending_command {
    caf::response_promise promise;
    clock_type::time_point deadline;
  };
  std::unordered_map<uint64_t, pending_command> pending;
  std::unordered_map<std::string, std::vector<caf::actor>> subscribers;
  // Channels whose SUBSCRIBE Redis confirmed on the current connection. A
  // subscriber is told it is subscribed (redis_resub) only then: told
  // earlier, it could read the channel's offset before Redis listens for it
  // on our behalf, and miss what is published in between.
  std::unordered_set<std::string> confirmed;
  uint64_t next_id = 1;
  bool subscribed = false; // subscriber connection up and confirmed
  uint64_t probe_seq = 0;
  std::optional<clock_type::time_point> probe_sent; // awaiting its return
};

using redis_bridge_actor = instrumented_actor<redis_bridge_state>;

/// Sends to the bridge from the io thread without keeping it alive.
template <class... Ts>
void post_to(const caf::weak_actor_ptr& weak, Ts&&... xs) {
  if (auto bridge = caf::actor_cast<caf::actor>(weak.lock()))
    caf::anon_send(bridge, std::forward<Ts>(xs)...);
}

/// Answers commands whose deadline passed (see command_timeout).
void expire_commands(redis_bridge_actor* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  std::size_t expired = 0;
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.deadline > now) {
      ++i;
      continue;
    }
    i->second.promise.deliver(
        redis_reply::unavailable_reply("redis command timed out"));
    i = st.pending.erase(i);
    ++expired;
  }
  if (expired > 0) {
    st.counter->stats().cache.redis_errors.fetch_add(expired,
                                                     std::memory_order_relaxed);
    spdlog::warn("redis_bridge: {} commands unanswered after {} ms", expired,
                 st.config.command_timeout.count());
  }
}

void probe(redis_bridge_actor* self) {
  auto& st = self->state;
  self->delayed_send(self, st.config.probe_interval, probe_atom::value);
  expire_commands(self);
  if (!st.subscribed || !(st.counter->stats().*st.config.redis_up)) {
    st.probe_sent.reset(); // a probe sent before the outage proves nothing
    return;
  }
  auto now = self->clock().now();
  if (st.probe_sent && now - *st.probe_sent > st.config.probe_timeout) {
    spdlog::warn("redis_bridge: subscription probe did not come back in {} "
                 "ms; reconnecting the subscriber",
                 st.config.probe_timeout.count());
    st.probe_sent.reset();
    st.subscribed = false;
    st.subscriber->reconnect("probe lost");
    return;
  }
  if (!st.probe_sent) {
    st.probe_sent = now;
    // Only its arrival on the subscriber matters, not the reply.
    st.commands->send({"PUBLISH", st.config.probe_channel,
                       "probe " + std::to_string(++st.probe_seq)},
                      [](redis_reply) {});
  }
}

void notify_all_subscribers(redis_bridge_actor* self, caf::atom_value which) {
  std::vector<caf::actor> all;
  for (auto& [channel, actors] : self->state.subscribers)
    for (auto& a : actors)
      if (std::find(all.begin(), all.end(), a) == all.end())
        all.push_back(a);
  for (auto& a : all) {
    if (which == redis_resub_atom::value)
      self->send(a, redis_resub_atom::value);
    else if (which == redis_lost_atom::value)
      self->send(a, redis_lost_atom::value);
    else if (which == redis_up_atom::value)
      self->send(a, redis_up_atom::value);
    else
      self->send(a, redis_down_atom::value);
  }
}

caf::behavior redis_bridge_impl(redis_bridge_actor* self,
                                std::shared_ptr<node_stats> stats,
                                std::shared_ptr<redis_link> commands,
                                std::shared_ptr<redis_link> subscriber,
                                redis_bridge_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(std::move(stats),
                                              actor_kind::redis_bridge);
  st.commands = commands;
  st.subscriber = subscriber;
  st.config = std::move(config);
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  commands->start([weak](bool up) {
    if (up)
      post_to(weak, redis_up_atom::value);
    else
      post_to(weak, redis_down_atom::value);
  });
  subscriber->on_message([weak](std::string channel, std::string payload) {
    post_to(weak, redis_msg_atom::value, std::move(channel),
            std::move(payload));
  });
  subscriber->on_subscribed([weak](std::string channel) {
    post_to(weak, redis_subok_atom::value, std::move(channel));
  });
  subscriber->subscribe(st.config.probe_channel);
  subscriber->start([weak](bool up) {
    if (up)
      post_to(weak, redis_resub_atom::value);
    else
      post_to(weak, redis_lost_atom::value);
  });
  self->attach_functor([commands, subscriber] {
    commands->stop();
    subscriber->stop();
  });
  self->send(self, probe_atom::value);
  return {
      [=](redis_cmd_atom, redis_command& command) -> caf::result<redis_reply> {
        auto& st = self->state;
        if (st.pending.size() >= st.config.max_pending) {
          bump(st.counter->stats().cache.redis_errors);
          return redis_reply::unavailable_reply("too many redis commands");
        }
        auto id = st.next_id++;
        auto promise = self->make_response_promise();
        st.pending.emplace(
            id, redis_bridge_state::pending_command{
                    promise, self->clock().now() + st.config.command_timeout});
        st.commands->send(std::move(command),
                          [weak = caf::actor_cast<caf::weak_actor_ptr>(self),
                           id](redis_reply reply) {
                            post_to(weak, redis_rep_atom::value, id,
                                    std::move(reply));
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
        i->second.promise.deliver(std::move(reply));
        st.pending.erase(i);
      },
      [=](redis_sub_atom, const std::string& channel) {
        auto& st = self->state;
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        if (!who)
          return;
        auto& list = st.subscribers[channel];
        if (std::find(list.begin(), list.end(), who) != list.end())
          return;
        list.push_back(who);
        if (list.size() == 1)
          st.subscriber->subscribe(channel);
        // A new subscriber of a confirmed channel learns so at once; else
        // when Redis confirms (redis_subok).
        if (st.subscribed && st.confirmed.count(channel) > 0)
          self->send(who, redis_resub_atom::value);
      },
      [=](redis_unsub_atom, const std::string& channel) {
        auto& st = self->state;
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        auto i = st.subscribers.find(channel);
        if (i == st.subscribers.end())
          return;
        auto& list = i->second;
        list.erase(std::remove(list.begin(), list.end(), who), list.end());
        if (list.empty()) {
          st.subscribers.erase(i);
          st.confirmed.erase(channel);
          st.subscriber->unsubscribe(channel);
        }
      },
      [=](redis_msg_atom, const std::string& channel, std::string& payload) {
        auto& st = self->state;
        if (channel == st.config.probe_channel) {
          st.probe_sent.reset();
          return;
        }
        bump(st.counter->stats().pubsub.received);
        auto i = st.subscribers.find(channel);
        if (i == st.subscribers.end())
          return;
        for (auto& who : i->second)
          self->send(who, redis_msg_atom::value, channel, payload);
      },
      [=](redis_resub_atom) {
        auto& st = self->state;
        st.subscribed = true;
        st.probe_sent.reset();
        st.counter->stats().*st.config.pubsub_up = true;
        notify_all_subscribers(self, redis_resub_atom::value);
      },
      [=](redis_subok_atom, const std::string& channel) {
        auto& st = self->state;
        auto i = st.subscribers.find(channel);
        if (i == st.subscribers.end())
          return; // unsubscribed meanwhile (or the probe channel)
        st.confirmed.insert(channel);
        if (st.subscribed)
          for (auto& who : i->second)
            self->send(who, redis_resub_atom::value);
      },
      [=](redis_lost_atom) {
        auto& st = self->state;
        st.subscribed = false;
        st.confirmed.clear();
        st.counter->stats().*st.config.pubsub_up = false;
        notify_all_subscribers(self, redis_lost_atom::value);
      },
      [=](probe_atom) { probe(self); },
      [=](redis_up_atom) {
        self->state.counter->stats().*self->state.config.redis_up = true;
        notify_all_subscribers(self, redis_up_atom::value);
      },
      // The connection logs the loss itself, once, with its cause.
      [=](redis_down_atom) {
        self->state.counter->stats().*self->state.config.redis_up = false;
        notify_all_subscribers(self, redis_down_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_redis_bridge(caf::actor_system& system,
                              std::shared_ptr<node_stats> stats,
                              std::shared_ptr<redis_link> commands,
                              std::shared_ptr<redis_link> subscriber,
                              redis_bridge_config config) {
  return system.spawn(redis_bridge_impl, std::move(stats), std::move(commands),
                      std::move(subscriber), std::move(config));
}

} // namespace switchboard

// cache — see cache.hpp.
//
// L1 coherence. The L1 is used normally while this node's Pub/Sub
// subscription is confirmed; Pub/Sub is at-most-once, so whenever it is
// (re)established the L1 is cleared. While the subscription is down but
// Redis answers commands, the L1 is bypassed (Redis is then the coherent
// copy). While Redis is down altogether no invalidation can reach any node:
// the L1 keeps serving, but nothing in it stays fresh longer than
// outage_ttl (bounded staleness), and the groups this node invalidated
// meanwhile are replayed to Redis and the cluster when it returns. An
// invalidation drops the groups here, detaches any entry loading them (its
// result must not reach the L1: readers that arrive later get a new entry),
// bumps the groups' versions and deletes their values in Redis, publishes
// "inval <id> <node> <groups>", and answers the writer only when every node
// that received it has acknowledged (or the deadline passed). Each node,
// this one included, applies a received "inval" and then acks it.
//
// Entry retirement is exact: the registry counts messages it forwarded to an
// entry, the entry reports how many it answered, and CAF keeps per-sender
// order, so when the two agree nothing is in flight towards it.
#include "actors/cache/cache.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "actors/cache/l1_store.hpp"
#include "actors/cache_entry/cache_entry.hpp"
#include "src/cache/cache_keys.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>
#include <unordered_map>

namespace switchboard {

namespace {

struct entry_slot {
  caf::actor entry;
  std::string group;
  uint64_t forwarded = 0;
};

struct pending_invalidation {
  caf::response_promise promise;
  int64_t needed = -1; // unknown until PUBLISH answers
  int64_t acked = 0;
};

struct cache_state {
  static inline const char* name = "cache";
  std::unique_ptr<kind_counter> counter;
  cache_config config;
  std::unique_ptr<l1_store> l1;
  // Bumped whenever values answered before may have gone stale; a fresh hit
  // carries it so the io thread may reuse the answer (cache_listener).
  uint64_t generation = 1;
  bool subscribed = false;      // our Pub/Sub subscription is confirmed
  bool redis_up = true;         // the command connection answers
  std::set<std::string> replay; // groups to invalidate once Redis is back
  bool replay_overflowed = false;
  std::unordered_map<std::string, entry_slot> entries;
  std::unordered_map<std::string, pending_invalidation> invalidations;
  uint64_t next_entry = 0;
  uint64_t next_invalidation = 0;
  std::string events_channel;
  std::string node_channel;
};

using cache_actor = instrumented_actor<cache_state>;

node_stats& stats_of(cache_actor* self) {
  return self->state.counter->stats();
}

/// Whether the L1 may serve and be filled now (see the top of the file).
bool l1_usable(const cache_state& st) {
  return st.subscribed || !st.redis_up;
}

bool in_outage(const cache_state& st) {
  return !st.subscribed && !st.redis_up;
}

void publish_l1_figures(cache_actor* self) {
  auto& st = self->state;
  stats_of(self).cache.entries = static_cast<int64_t>(st.l1->size());
  stats_of(self).cache.l1_bytes = static_cast<int64_t>(st.l1->bytes());
}

/// The entry for `request.key` (spawned if needed), counting one more
/// message forwarded to it.
caf::actor& entry_for(cache_actor* self, const cache_request& request) {
  auto& st = self->state;
  auto& slot = st.entries[request.key];
  if (!slot.entry) {
    const auto& cfg = st.config;
    slot.group = request.group;
    slot.entry = spawn_cache_entry(
        self, st.counter->stats_ptr(),
        cache_entry_config{request.key, cfg.key_prefix,
                           cfg.node_id + "/" + std::to_string(++st.next_entry),
                           cfg.redis_bridge, cfg.db_pool, cfg.redis_timeout,
                           cfg.db_timeout, cfg.lease_wait, cfg.soft_timeout,
                           cfg.ttl_jitter_percent, cfg.group_members_max});
    self->monitor(slot.entry);
  }
  ++slot.forwarded;
  return slot.entry;
}

void refresh_in_background(cache_actor* self, const cache_request& request,
                           bool early) {
  auto& entry = entry_for(self, request);
  self->send(entry, cache_refresh_atom::value, request, early);
}

/// Answers given so far may be stale: tell the listener before anything
/// that follows (an acknowledgement) can be seen.
void new_generation(cache_actor* self) {
  auto& st = self->state;
  ++st.generation;
  if (st.config.listener)
    st.config.listener->stale_from(st.generation);
}

cache_result from_value(const cached_value& value, cache_source source) {
  cache_result result;
  result.source = source;
  if (value.found) {
    result.status = cache_status::found;
    result.body = value.body;
    result.etag = value.etag;
  } else {
    result.status = cache_status::not_found;
  }
  return result;
}

/// Drops `groups` from this node: the L1, and any load in flight for them.
void invalidate_locally(cache_actor* self,
                        const std::vector<std::string>& groups) {
  auto& st = self->state;
  new_generation(self);
  for (auto& group : groups)
    st.l1->erase_group(group);
  for (auto i = st.entries.begin(); i != st.entries.end();) {
    bool hit = false;
    for (auto& group : groups)
      hit = hit || i->second.group == group;
    if (!hit) {
      ++i;
      continue;
    }
    // The entry answers whoever already waits on it, then retires; its
    // result is ignored (it is no longer the slot's entry).
    self->demonitor(i->second.entry);
    self->send(i->second.entry, entry_stop_atom::value);
    i = st.entries.erase(i);
  }
  publish_l1_figures(self);
}

void finish_invalidation(cache_actor* self, const std::string& id, bool all) {
  auto& st = self->state;
  auto i = st.invalidations.find(id);
  if (i == st.invalidations.end())
    return;
  if (!all)
    spdlog::warn("cache: invalidation {} acknowledged by {} of {} nodes "
                 "before the deadline",
                 id, i->second.acked, i->second.needed);
  i->second.promise.deliver(all);
  st.invalidations.erase(i);
}

void on_event(cache_actor* self, const std::string& payload) {
  auto& st = self->state;
  std::istringstream in{payload};
  std::string verb;
  in >> verb;
  if (verb == "fill") {
    std::string key;
    in >> key;
    auto i = st.entries.find(key);
    if (i != st.entries.end())
      self->send(i->second.entry, cache_fill_atom::value);
  } else if (verb == "inval") {
    std::string id, node;
    in >> id >> node;
    std::vector<std::string> groups;
    for (std::string g; in >> g;)
      groups.push_back(std::move(g));
    invalidate_locally(self, groups);
    self->send(
        st.config.redis_bridge, redis_cmd_atom::value,
        redis_command{"PUBLISH",
                      cache_keys::node_channel(st.config.key_prefix, node),
                      "ack " + id});
  }
}

void on_node_message(cache_actor* self, const std::string& payload) {
  auto& st = self->state;
  if (payload.rfind("ack ", 0) != 0)
    return;
  auto id = payload.substr(4);
  auto i = st.invalidations.find(id);
  if (i == st.invalidations.end())
    return; // late: already answered at the deadline
  ++i->second.acked;
  if (i->second.needed >= 0 && i->second.acked >= i->second.needed)
    finish_invalidation(self, id, true);
}

/// Detaches every in-flight entry: what they read may predate invalidations
/// this node could not hear, so none of it may reach the L1.
void detach_all_entries(cache_actor* self) {
  auto& st = self->state;
  for (auto& [key, slot] : st.entries) {
    self->demonitor(slot.entry);
    self->send(slot.entry, entry_stop_atom::value);
  }
  st.entries.clear();
}

/// After the subscription or the command connection changed state.
void enter_mode(cache_actor* self) {
  auto& st = self->state;
  new_generation(self); // a mode change: no earlier answer is reused
  if (st.subscribed)
    return; // normal; nothing to do
  if (in_outage(st)) {
    // Keep serving what we have, but not for long: cap its freshness.
    st.l1->cap_freshness(wall_clock_ms() + st.config.outage_ttl.count());
    return;
  }
  // Redis answers but our subscription does not: the L1 could miss
  // invalidations, so it is emptied and bypassed until we resubscribe.
  st.l1->clear();
  publish_l1_figures(self);
}

void replay_invalidations(cache_actor* self) {
  auto& st = self->state;
  if (st.replay_overflowed)
    spdlog::error("cache: more than {} groups were written while Redis was "
                  "down; only the last ones are replayed",
                  st.config.max_replayed_groups);
  st.replay_overflowed = false;
  if (st.replay.empty())
    return;
  std::vector<std::string> groups{st.replay.begin(), st.replay.end()};
  st.replay.clear();
  spdlog::info("cache: replaying {} invalidations made while Redis was down",
               groups.size());
  self->request(caf::actor_cast<caf::actor>(self), caf::infinite,
                cache_inval_atom::value, std::move(groups))
      .then([](bool) {}, [](caf::error&) {});
}

void remember_for_replay(cache_actor* self,
                         const std::vector<std::string>& groups) {
  auto& st = self->state;
  for (auto& group : groups) {
    if (st.replay.size() >= st.config.max_replayed_groups) {
      st.replay_overflowed = true;
      return;
    }
    st.replay.insert(group);
  }
}

caf::behavior cache_impl(cache_actor* self, std::shared_ptr<node_stats> stats,
                         cache_config config) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::cache);
  st.config = std::move(config);
  st.l1 = std::make_unique<l1_store>(st.config.l1_max_entries,
                                     st.config.l1_max_bytes);
  st.events_channel = cache_keys::events_channel(st.config.key_prefix);
  st.node_channel =
      cache_keys::node_channel(st.config.key_prefix, st.config.node_id);
  self->send(st.config.redis_bridge, redis_sub_atom::value, st.events_channel);
  self->send(st.config.redis_bridge, redis_sub_atom::value, st.node_channel);
  // Invalidations that could not reach Redis are retried until they do.
  if (st.config.replay_interval.count() > 0)
    self->delayed_send(self, st.config.replay_interval, tick_atom::value);
  self->set_down_handler([=](caf::down_msg& down) {
    // An entry died without retiring (a bug): forget it so the key heals.
    auto& entries = self->state.entries;
    for (auto i = entries.begin(); i != entries.end(); ++i) {
      if (i->second.entry.address() == down.source) {
        spdlog::error("cache: entry for {} died: {}", i->first,
                      caf::to_string(down.reason));
        entries.erase(i);
        return;
      }
    }
  });
  return {
      [=](cache_get_atom, cache_request& request) -> caf::result<cache_result> {
        auto& st = self->state;
        optional_value fallback;
        if (l1_usable(st)) {
          if (auto* value = st.l1->find(request.key)) {
            auto now = wall_clock_ms();
            switch (value->at(now, request.policy)) {
            case cached_value::freshness::fresh: {
              bump(stats_of(self).cache.hits);
              auto result = from_value(*value, cache_source::hit);
              result.generation = st.generation;
              result.fresh_until_ms = value->fresh_until_ms;
              if (refresh_early(*value, now))
                refresh_in_background(self, request, true);
              return result;
            }
            case cached_value::freshness::stale_revalidate: {
              bump(stats_of(self).cache.stale);
              auto result = from_value(*value, cache_source::stale);
              refresh_in_background(self, request, false);
              return result;
            }
            case cached_value::freshness::grace:
              fallback.value = *value;
              break;
            case cached_value::freshness::expired:
              st.l1->erase(request.key);
              publish_l1_figures(self);
              break;
            }
          }
        }
        auto& entry = entry_for(self, request);
        auto promise = self->make_response_promise();
        promise.delegate(entry, cache_get_atom::value, std::move(request),
                         std::move(fallback));
        return promise;
      },
      [=](entry_done_atom, const std::string& key, uint64_t answered,
          optional_value& latest) {
        auto& st = self->state;
        auto i = st.entries.find(key);
        if (i == st.entries.end() || i->second.entry != self->current_sender())
          return; // a detached entry: invalidated while loading
        if (latest.value && l1_usable(st)) {
          if (in_outage(st))
            latest.value->fresh_until_ms =
                std::min(latest.value->fresh_until_ms,
                         wall_clock_ms() + st.config.outage_ttl.count());
          auto evicted =
              st.l1->put(key, i->second.group, std::move(*latest.value));
          bump(stats_of(self).cache.evictions, evicted);
          publish_l1_figures(self);
        }
        if (i->second.forwarded != answered)
          return; // more requests are on their way to it: not idle yet
        self->demonitor(i->second.entry);
        self->send(i->second.entry, entry_stop_atom::value);
        st.entries.erase(i);
      },
      [=](cache_inval_atom,
          std::vector<std::string>& groups) -> caf::result<bool> {
        auto& st = self->state;
        invalidate_locally(self, groups);
        auto id =
            st.config.node_id + "/" + std::to_string(++st.next_invalidation);
        auto promise = self->make_response_promise();
        st.invalidations.emplace(id, pending_invalidation{promise});
        redis_command script{"EVAL", cache_keys::invalidate_script,
                             std::to_string(groups.size() * 2 + 1),
                             cache_keys::serial(st.config.key_prefix)};
        std::string message = "inval " + id + " " + st.config.node_id;
        for (auto& group : groups) {
          script.push_back(cache_keys::version(st.config.key_prefix, group));
          script.push_back(cache_keys::members(st.config.key_prefix, group));
          message += " " + group;
        }
        script.push_back(cache_keys::bookkeeping_ttl_ms);
        auto bridge = st.config.redis_bridge;
        auto timeout = st.config.redis_timeout;
        self->request(bridge, timeout, redis_cmd_atom::value, std::move(script))
            .then(
                [=](redis_reply& reply) {
                  if (!reply.ok()) {
                    if (reply.type != redis_reply::kind::unavailable)
                      spdlog::error("cache: invalidating in Redis failed: {}",
                                    reply.str);
                    remember_for_replay(self, groups);
                    finish_invalidation(self, id, false);
                    return;
                  }
                  self->request(bridge, timeout, redis_cmd_atom::value,
                                redis_command{"PUBLISH",
                                              self->state.events_channel,
                                              message})
                      .then(
                          [=](redis_reply& published) {
                            auto& st = self->state;
                            auto i = st.invalidations.find(id);
                            if (i == st.invalidations.end())
                              return;
                            if (published.type != redis_reply::kind::integer) {
                              remember_for_replay(self, groups);
                              finish_invalidation(self, id, false);
                              return;
                            }
                            i->second.needed = published.integer;
                            if (i->second.acked >= i->second.needed)
                              finish_invalidation(self, id, true);
                            else
                              self->delayed_send(self, st.config.ack_timeout,
                                                 ack_timeout_atom::value, id);
                          },
                          [=](caf::error&) {
                            remember_for_replay(self, groups);
                            finish_invalidation(self, id, false);
                          });
                },
                [=](caf::error&) {
                  spdlog::error("cache: invalidating in Redis timed out");
                  remember_for_replay(self, groups);
                  finish_invalidation(self, id, false);
                });
        return promise;
      },
      [=](ack_timeout_atom, const std::string& id) {
        finish_invalidation(self, id, false);
      },
      [=](redis_msg_atom, const std::string& channel, const std::string& msg) {
        if (channel == self->state.events_channel)
          on_event(self, msg);
        else if (channel == self->state.node_channel)
          on_node_message(self, msg);
      },
      [=](redis_resub_atom) {
        // Invalidations may have been missed while we were not subscribed.
        auto& st = self->state;
        st.subscribed = true;
        detach_all_entries(self);
        new_generation(self);
        st.l1->clear();
        publish_l1_figures(self);
        replay_invalidations(self);
      },
      [=](redis_lost_atom) {
        auto& st = self->state;
        st.subscribed = false;
        detach_all_entries(self);
        enter_mode(self);
      },
      [=](redis_up_atom) {
        auto& st = self->state;
        st.redis_up = true;
        enter_mode(self);
        replay_invalidations(self);
      },
      [=](redis_down_atom) {
        auto& st = self->state;
        st.redis_up = false;
        enter_mode(self);
      },
      [=](bool) {}, // answers to our own replayed invalidations
      [=](tick_atom) {
        if (self->state.redis_up)
          replay_invalidations(self);
        self->delayed_send(self, self->state.config.replay_interval,
                           tick_atom::value);
      },
      // Answers to fire-and-forget commands (PUBLISH of acks).
      [=](const redis_reply&) {},
  };
}

} // namespace

caf::actor spawn_cache(caf::actor_system& system,
                       std::shared_ptr<node_stats> stats, cache_config config) {
  return system.spawn(cache_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

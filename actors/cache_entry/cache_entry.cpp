// cache_entry — see cache_entry.hpp. Phases:
//
//   idle -> lookup: one Lua round trip reads the value and the group version
//           and, if a load is needed, tries to take the cluster-wide lease.
//   lookup -> answered (fresh: hit; within the stale window: stale, then a
//           background refresh), or -> waiting (another node holds the
//           lease: wait for its "fill", bounded by lease_wait), or -> loading.
//   loading -> the database job; on success store with the version read in
//           lookup (refused if an invalidation changed it meanwhile), publish
//           "fill", answer miss/coalesced; on failure answer with the stale
//           fallback if there is one (X-Cache: stale), else unavailable.
//
// Readers arriving in any phase join the waiters. A Redis failure is never
// fatal: the entry loads from the database without a lease and skips the
// store. Timers carry the attempt number so a late one is ignored.
#include "actors/cache_entry/cache_entry.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "src/cache/cache_keys.hpp"

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <random>
#include <vector>

namespace switchboard {

const char* to_string(cache_source source) {
  switch (source) {
  case cache_source::hit:
    return "hit";
  case cache_source::miss:
    return "miss";
  case cache_source::coalesced:
    return "coalesced";
  case cache_source::stale:
    return "stale";
  }
  return "miss";
}

namespace {

enum class phase { idle, lookup, waiting, loading };

struct cache_entry_state {
  static inline const char* name = "cache_entry";
  std::unique_ptr<kind_counter> counter;
  cache_entry_config config;
  caf::actor parent;
  std::vector<caf::response_promise> waiters;
  cache_request request; // policy, group and loader of this round
  std::optional<cached_value> fallback; // stale value to serve on failure
  std::optional<cached_value> latest;   // last value seen, for the L1
  std::string version;                  // group version read before the load
  bool version_known = false;
  bool need = false; // Redis's verdict: a load is needed
  bool leased = false;
  bool waited = false; // already waited for another node once
  // A "fill" arrived while a lookup was in flight: the lookup may have been
  // answered before that store (Pub/Sub and commands use different
  // connections), so a "someone else holds the lease" answer is stale.
  bool fill_during_lookup = false;
  bool background = false; // a refresh nobody waits for
  phase now = phase::idle;
  uint64_t attempt = 0;
  uint64_t answered = 0;
  bool stopping = false;
};

using cache_entry_actor = instrumented_actor<cache_entry_state>;

void lookup(cache_entry_actor* self, int mode);
void load(cache_entry_actor* self);

int64_t ms(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

node_stats& stats_of(cache_entry_actor* self) {
  return self->state.counter->stats();
}

/// Reports to the parent once nothing is in flight and nobody waits.
void maybe_done(cache_entry_actor* self) {
  auto& st = self->state;
  if (st.now != phase::idle || !st.waiters.empty())
    return;
  self->send(st.parent, entry_done_atom::value, st.config.key, st.answered,
             optional_value{std::move(st.latest)});
  st.latest.reset();
  st.fallback.reset();
  st.background = false;
  if (st.stopping)
    self->quit();
}

void answer_all(cache_entry_actor* self, const cached_value* value,
                cache_source source) {
  auto& st = self->state;
  auto& cache = stats_of(self).cache;
  cache_result first;
  if (value == nullptr) {
    first.status = cache_status::unavailable;
  } else if (value->found) {
    first.status = cache_status::found;
    first.body = value->body;
    first.etag = value->etag;
  } else {
    first.status = cache_status::not_found;
  }
  first.source = source;
  for (size_t i = 0; i < st.waiters.size(); ++i) {
    auto result = first;
    if (i > 0 && source != cache_source::stale) {
      result.source = cache_source::coalesced;
      bump(cache.coalesced);
    } else {
      switch (source) {
      case cache_source::hit:
        bump(cache.hits);
        break;
      case cache_source::stale:
        bump(cache.stale);
        break;
      default:
        bump(cache.misses);
      }
    }
    st.waiters[i].deliver(std::move(result));
  }
  st.answered += st.waiters.size();
  st.waiters.clear();
}

std::chrono::milliseconds jittered(cache_entry_actor* self,
                                   std::chrono::seconds ttl) {
  // Spread expiries so keys loaded together do not expire together.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto base = ms(ttl);
  auto spread = base * self->state.config.ttl_jitter_percent / 100;
  if (spread <= 0)
    return std::chrono::milliseconds{base};
  std::uniform_int_distribution<int64_t> jitter{-spread, spread};
  return std::chrono::milliseconds{std::max<int64_t>(1, base + jitter(rng))};
}

void publish_fill(cache_entry_actor* self) {
  auto& st = self->state;
  self->send(st.config.redis_bridge, redis_cmd_atom::value,
             redis_command{"PUBLISH",
                           cache_keys::events_channel(st.config.prefix),
                           "fill " + st.config.key});
}

void release_lease(cache_entry_actor* self) {
  auto& st = self->state;
  if (!st.leased)
    return;
  st.leased = false;
  self->send(st.config.redis_bridge, redis_cmd_atom::value,
             redis_command{"EVAL", cache_keys::release_script, "1",
                           cache_keys::lease(st.config.prefix, st.config.key),
                           st.config.lease_token});
  publish_fill(self); // waiters elsewhere look again (and lease themselves)
}

void store(cache_entry_actor* self, const cached_value& value,
           std::chrono::milliseconds px) {
  auto& st = self->state;
  if (!st.version_known) {
    // Redis failed before the load: we cannot prove no invalidation raced
    // with it, so we do not store it there.
    release_lease(self);
    return;
  }
  const auto& prefix = st.config.prefix;
  auto ttl = std::to_string(px.count());
  st.leased = false; // the store script releases it
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"EVAL", cache_keys::store_script, "4",
                              cache_keys::value(prefix, st.config.key),
                              cache_keys::version(prefix, st.request.group),
                              cache_keys::members(prefix, st.request.group),
                              cache_keys::lease(prefix, st.config.key),
                              st.version, value.encode(), ttl,
                              st.config.lease_token,
                              cache_keys::bookkeeping_ttl_ms,
                              std::to_string(st.config.group_members_max)})
      .then(
          [=](redis_reply& reply) {
            if (reply.type == redis_reply::kind::integer && reply.integer == 0)
              spdlog::debug("cache_entry: {} was invalidated while loading; "
                            "not stored",
                            self->state.config.key);
          },
          [](caf::error&) {
            // A lost store only costs a later miss; an unhandled error would
            // end the actor.
          });
  // Behind the store on the same Redis connection, so it is published after
  // the value exists, and without waiting: the entry may retire meanwhile.
  publish_fill(self);
}

void finish_load(cache_entry_actor* self, db_result& result, int64_t load_ms) {
  auto& st = self->state;
  auto now = wall_clock_ms();
  if (result.status == db_status::ok || result.status == db_status::not_found) {
    cached_value value;
    value.found = result.status == db_status::ok;
    value.load_ms = load_ms;
    std::chrono::milliseconds px;
    if (value.found) {
      value.body = std::make_shared<const std::string>(
          boost::json::serialize(result.value));
      value.etag = etag_of(*value.body);
      auto fresh = jittered(self, st.request.policy.ttl);
      value.fresh_until_ms = now + fresh.count();
      // Redis keeps it through the stale and grace windows as well.
      px = fresh + std::chrono::milliseconds{ms(std::max(
                       st.request.policy.stale, st.request.policy.grace))};
    } else {
      px = std::chrono::milliseconds{ms(st.request.policy.negative_ttl)};
      value.fresh_until_ms = now + px.count();
    }
    store(self, value, px);
    st.now = phase::idle;
    answer_all(self, &value, cache_source::miss);
    st.latest = std::move(value);
  } else {
    release_lease(self);
    st.now = phase::idle;
    if (st.fallback) {
      answer_all(self, &*st.fallback, cache_source::stale);
    } else {
      answer_all(self, nullptr, cache_source::miss);
    }
  }
  maybe_done(self);
}

void load(cache_entry_actor* self) {
  auto& st = self->state;
  st.now = phase::loading;
  auto attempt = ++st.attempt;
  bump(stats_of(self).cache.db_fetches);
  if (st.fallback && !st.waiters.empty())
    self->delayed_send(self, st.config.soft_timeout, soft_timeout_atom::value,
                       attempt);
  auto started = std::chrono::steady_clock::now();
  self->request(st.config.db_pool, st.config.db_timeout, db_run_atom::value,
                st.request.load)
      .then(
          [=](db_result& result) {
            auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
            finish_load(self, result, took);
          },
          [=](caf::error& err) {
            spdlog::warn("cache_entry: loading {} failed: {}",
                         self->state.config.key, self->system().render(err));
            db_result failed{db_status::unavailable, {}, "timeout"};
            finish_load(self, failed, 0);
          });
}

/// After a lookup of mode 1 (a reader needs an answer).
void on_lookup_for_readers(cache_entry_actor* self,
                           std::optional<cached_value> value) {
  auto& st = self->state;
  auto now = wall_clock_ms();
  auto fresh = value ? value->at(now, st.request.policy)
                     : cached_value::freshness::expired;
  // When Redis answered, its decision stands (it and we read the clock at
  // slightly different moments): no load needed means the value serves.
  bool load_needed =
      st.version_known ? st.need
                       : fresh != cached_value::freshness::fresh &&
                             fresh != cached_value::freshness::stale_revalidate;
  if (!load_needed && value) {
    st.now = phase::idle;
    st.latest = value;
    if (fresh == cached_value::freshness::fresh) {
      answer_all(self, &*value, cache_source::hit);
      if (refresh_early(*value, now)) {
        st.background = true;
        lookup(self, 3); // early XFetch refresh: always reload
        return;
      }
      release_lease(self);
      maybe_done(self);
      return;
    }
    answer_all(self, &*value, cache_source::stale);
    st.background = true;
    lookup(self, 2);
    return;
  }
  if (value && fresh != cached_value::freshness::expired)
    st.fallback = value; // served if the load fails (fail-safe)
  if (st.leased || !st.version_known || st.waited) {
    load(self);
    return;
  }
  // Another node is loading it: wait for its "fill", but not for ever.
  st.waited = true;
  if (st.fill_during_lookup) { // it may have come already: look again
    lookup(self, 1);
    return;
  }
  st.now = phase::waiting;
  self->delayed_send(self, st.config.lease_wait, lease_wait_atom::value,
                     ++st.attempt);
}

/// After a lookup of mode 2 or 3 (a background refresh).
void on_lookup_for_refresh(cache_entry_actor* self,
                           std::optional<cached_value> value) {
  auto& st = self->state;
  if (st.leased || !st.version_known) {
    // Ours to refresh — or Redis failed, and then only a load can refresh.
    if (value)
      st.fallback = value;
    load(self);
    return;
  }
  // Someone else refreshed or refreshes it. A fresh value from them is what
  // our L1 should hold. Readers who joined meanwhile still need an answer.
  if (value && value->at(wall_clock_ms(), st.request.policy) ==
                   cached_value::freshness::fresh)
    st.latest = value;
  st.now = phase::idle;
  st.background = false;
  if (!st.waiters.empty()) {
    on_lookup_for_readers(self, std::move(value));
    return;
  }
  maybe_done(self);
}

void lookup(cache_entry_actor* self, int mode) {
  auto& st = self->state;
  st.now = phase::lookup;
  st.fill_during_lookup = false;
  const auto& prefix = st.config.prefix;
  self->request(
          st.config.redis_bridge, st.config.redis_timeout,
          redis_cmd_atom::value,
          redis_command{"EVAL", cache_keys::get_or_lease_script, "4",
                        cache_keys::value(prefix, st.config.key),
                        cache_keys::version(prefix, st.request.group),
                        cache_keys::lease(prefix, st.config.key),
                        cache_keys::serial(prefix), st.config.lease_token,
                        std::to_string(st.config.db_timeout.count() +
                                       st.config.redis_timeout.count() + 1000),
                        std::to_string(mode), std::to_string(wall_clock_ms()),
                        std::to_string(ms(st.request.policy.stale)),
                        cache_keys::bookkeeping_ttl_ms})
      .then(
          [=](redis_reply& reply) {
            auto& st = self->state;
            std::optional<cached_value> value;
            if (reply.type == redis_reply::kind::array &&
                reply.elements.size() == 4) {
              auto& v = reply.elements[0];
              if (v.type == redis_reply::kind::string)
                value = cached_value::decode(v.str);
              st.version = reply.elements[1].str;
              st.version_known = true;
              st.leased = st.leased || reply.elements[2].integer == 1;
              st.need = reply.elements[3].integer == 1;
            } else {
              bump(stats_of(self).cache.redis_errors);
              st.version_known = false;
              // The script may have run and taken the lease before its
              // reply was lost: release later (the release checks our token).
              st.leased = true;
            }
            if (mode >= 2)
              on_lookup_for_refresh(self, std::move(value));
            else
              on_lookup_for_readers(self, std::move(value));
          },
          [=](caf::error&) {
            auto& st = self->state;
            bump(stats_of(self).cache.redis_errors);
            st.version_known = false;
            st.leased = true; // maybe taken before the timeout: see above
            if (mode >= 2)
              on_lookup_for_refresh(self, std::nullopt);
            else
              on_lookup_for_readers(self, std::nullopt);
          });
}

void begin_round(cache_entry_actor* self, cache_request& request) {
  auto& st = self->state;
  st.request = std::move(request);
  st.waited = false;
  st.version_known = false;
  st.need = false;
  st.leased = false;
}

caf::behavior cache_entry_impl(cache_entry_actor* self,
                               std::shared_ptr<node_stats> stats,
                               cache_entry_config config, caf::actor parent) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::cache_entry);
  st.config = std::move(config);
  st.parent = std::move(parent);
  // With the cache gone nobody would retire us: end with it.
  self->monitor(st.parent);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  return {
      [=](cache_get_atom, cache_request& request, optional_value& fallback) {
        auto& st = self->state;
        auto promise = self->make_response_promise();
        st.waiters.push_back(promise);
        if (fallback.value && !st.fallback)
          st.fallback = std::move(fallback.value);
        if (st.now == phase::idle) {
          begin_round(self, request);
          lookup(self, 1);
        }
        return promise;
      },
      [=](cache_refresh_atom, cache_request& request, bool early) {
        auto& st = self->state;
        ++st.answered; // nobody waits for a refresh: it counts as answered
        if (st.now != phase::idle) {
          maybe_done(self);
          return;
        }
        begin_round(self, request);
        st.background = true;
        // A stale-while-revalidate refresh loads only if no other refresh
        // has landed meanwhile; an early (XFetch) one always does.
        lookup(self, early ? 3 : 2);
      },
      [=](cache_fill_atom) {
        auto& st = self->state;
        if (st.now == phase::waiting)
          lookup(self, 1);
        else if (st.now == phase::lookup)
          st.fill_during_lookup = true;
      },
      [=](lease_wait_atom, uint64_t attempt) {
        auto& st = self->state;
        if (st.now == phase::waiting && attempt == st.attempt)
          lookup(self, 1); // after this, a needed load happens here
      },
      [=](soft_timeout_atom, uint64_t attempt) {
        auto& st = self->state;
        // The database is slow and we have a stale value: answer with it now
        // and let the load finish in the background.
        if (st.now == phase::loading && attempt == st.attempt && st.fallback &&
            !st.waiters.empty())
          answer_all(self, &*st.fallback, cache_source::stale);
      },
      // Answers to fire-and-forget commands (PUBLISH, lease release).
      [=](const redis_reply&) {},
      [=](entry_stop_atom) {
        auto& st = self->state;
        if (st.now == phase::idle && st.waiters.empty())
          self->quit();
        else
          st.stopping = true;
      },
  };
}

} // namespace

caf::actor spawn_cache_entry(caf::local_actor* parent,
                             std::shared_ptr<node_stats> stats,
                             cache_entry_config config) {
  return parent->system().spawn(cache_entry_impl, std::move(stats),
                                std::move(config),
                                caf::actor_cast<caf::actor>(parent));
}

} // namespace switchboard

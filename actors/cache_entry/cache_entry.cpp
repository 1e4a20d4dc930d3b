// cache_entry — see cache_entry.hpp. States: idle -> reading Redis ->
// (on a miss) loading from the database -> answering -> idle. Readers that
// arrive while a load is in flight join it and are told `coalesced`. A
// Redis failure is never fatal: the entry falls through to the database.
#include "actors/cache_entry/cache_entry.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include <boost/container_hash/hash.hpp>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
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

std::string etag_of(const std::string& body) {
  auto hash = boost::hash_range(body.begin(), body.end());
  char buf[24];
  std::snprintf(buf, sizeof(buf), "\"%016zx\"", static_cast<size_t>(hash));
  return buf;
}

namespace {

struct cache_entry_state {
  static inline const char* name = "cache_entry";
  std::unique_ptr<kind_counter> counter;
  cache_entry_config config;
  caf::actor parent;
  std::vector<caf::response_promise> waiters;
  cache_policy policy;
  db_job load;
  uint64_t answered = 0; // requests answered, reported to the parent
  uint64_t received = 0;
  bool busy = false;
  bool stopping = false;
};

using cache_entry_actor = instrumented_actor<cache_entry_state>;

void answer_all(cache_entry_actor* self, cache_status status,
                std::shared_ptr<const std::string> body, cache_source source) {
  auto& st = self->state;
  auto& stats = st.counter->stats().cache;
  cache_result first{status, source, body, body ? etag_of(*body) : ""};
  for (size_t i = 0; i < st.waiters.size(); ++i) {
    auto result = first;
    if (i > 0) {
      result.source = cache_source::coalesced;
      bump(stats.coalesced);
    } else if (source == cache_source::hit) {
      bump(stats.hits);
    } else {
      bump(stats.misses);
    }
    st.waiters[i].deliver(std::move(result));
  }
  st.answered += st.waiters.size();
  st.waiters.clear();
  st.busy = false;
  st.load = db_job{};
  self->send(st.parent, entry_done_atom::value, st.config.key, st.answered);
  if (st.stopping)
    self->quit();
}

void store(cache_entry_actor* self, std::string value,
           std::chrono::seconds ttl) {
  auto& st = self->state;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"SET", st.config.redis_key, std::move(value),
                              "PX", std::to_string(ms)})
      .then([](const redis_reply&) {
        // A failed SET only costs a later miss; the bridge counted it.
      });
}

void load_from_database(cache_entry_actor* self) {
  auto& st = self->state;
  bump(st.counter->stats().cache.db_fetches);
  self->request(st.config.db_pool, st.config.db_timeout, db_run_atom::value,
                st.load)
      .then(
          [=](db_result& result) {
            auto& st = self->state;
            switch (result.status) {
            case db_status::ok: {
              auto body = std::make_shared<const std::string>(
                  boost::json::serialize(result.value));
              store(self, *body, st.policy.ttl);
              answer_all(self, cache_status::found, std::move(body),
                         cache_source::miss);
              return;
            }
            case db_status::not_found:
              store(self, std::string{negative_marker}, st.policy.negative_ttl);
              answer_all(self, cache_status::not_found, nullptr,
                         cache_source::miss);
              return;
            default:
              answer_all(self, cache_status::unavailable, nullptr,
                         cache_source::miss);
            }
          },
          [=](caf::error& err) {
            spdlog::warn("cache_entry: loading {} failed: {}",
                         self->state.config.key, self->system().render(err));
            answer_all(self, cache_status::unavailable, nullptr,
                       cache_source::miss);
          });
}

void read_from_redis(cache_entry_actor* self) {
  auto& st = self->state;
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"GET", st.config.redis_key})
      .then(
          [=](redis_reply& reply) {
            if (reply.type == redis_reply::kind::string) {
              if (reply.str == negative_marker) {
                answer_all(self, cache_status::not_found, nullptr,
                           cache_source::hit);
                return;
              }
              answer_all(
                  self, cache_status::found,
                  std::make_shared<const std::string>(std::move(reply.str)),
                  cache_source::hit);
              return;
            }
            // nil is a miss; an error or an outage falls through to the source.
            load_from_database(self);
          },
          [=](caf::error&) {
            bump(self->state.counter->stats().cache.redis_errors);
            load_from_database(self);
          });
}

caf::behavior cache_entry_impl(cache_entry_actor* self,
                               std::shared_ptr<node_stats> stats,
                               cache_entry_config config, caf::actor parent) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::cache_entry);
  st.config = std::move(config);
  st.parent = std::move(parent);
  return {
      [=](cache_get_atom, cache_request& request) {
        auto& st = self->state;
        auto promise = self->make_response_promise();
        st.waiters.push_back(promise);
        if (!st.busy) {
          st.busy = true;
          st.policy = request.policy;
          st.load = std::move(request.load);
          read_from_redis(self);
        }
        return promise;
      },
      [=](entry_stop_atom) {
        if (self->state.busy)
          self->state.stopping = true;
        else
          self->quit();
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

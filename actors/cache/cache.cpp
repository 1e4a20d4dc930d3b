// cache — see cache.hpp. Retirement is exact: the registry counts requests
// it forwarded to an entry, the entry reports how many it answered, and only
// when the two agree (CAF keeps per-sender order) is the entry stopped and
// forgotten, so no request is ever stranded in a retiring entry.
#include "actors/cache/cache.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/instrumented.hpp"

#include "actors/cache_entry/cache_entry.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace switchboard {

namespace {

struct entry_slot {
  caf::actor entry;
  uint64_t forwarded = 0;
};

struct cache_state {
  static inline const char* name = "cache";
  std::unique_ptr<kind_counter> counter;
  cache_config config;
  std::unordered_map<std::string, entry_slot> entries;
};

using cache_actor = instrumented_actor<cache_state>;

caf::behavior cache_impl(cache_actor* self, std::shared_ptr<node_stats> stats,
                         cache_config config) {
  self->state.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::cache);
  self->state.config = std::move(config);
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
      [=](cache_get_atom, cache_request& request) {
        auto& st = self->state;
        auto& slot = st.entries[request.key];
        if (!slot.entry) {
          const auto& cfg = st.config;
          slot.entry = spawn_cache_entry(
              self, st.counter->stats_ptr(),
              cache_entry_config{request.key, cfg.key_prefix + request.key,
                                 cfg.redis_bridge, cfg.db_pool,
                                 cfg.redis_timeout, cfg.db_timeout});
          self->monitor(slot.entry);
        }
        ++slot.forwarded;
        return self->delegate(slot.entry, cache_get_atom::value,
                              std::move(request));
      },
      [=](entry_done_atom, const std::string& key, uint64_t answered) {
        auto& entries = self->state.entries;
        auto i = entries.find(key);
        if (i == entries.end() || i->second.entry != self->current_sender() ||
            i->second.forwarded != answered)
          return; // more requests are on their way to it: not idle yet
        self->demonitor(i->second.entry);
        self->send(i->second.entry, entry_stop_atom::value);
        entries.erase(i);
      },
  };
}

} // namespace

caf::actor spawn_cache(caf::actor_system& system,
                       std::shared_ptr<node_stats> stats, cache_config config) {
  return system.spawn(cache_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

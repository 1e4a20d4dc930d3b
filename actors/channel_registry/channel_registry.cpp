// channel_registry — see channel_registry.hpp. Retirement is exact, as in
// the cache: the registry counts joins and leaves it forwarded, the channel
// reports how many it handled when it became empty, and only when the two
// agree is it stopped (per-sender order makes that safe).
#include "actors/channel_registry/channel_registry.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/live.hpp"

#include "actors/channel/channel.hpp"
#include "src/live/channels.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace switchboard {

namespace {

struct channel_slot {
  caf::actor channel;
  uint64_t forwarded = 0;
};

struct channel_registry_state {
  static inline const char* name = "channel_registry";
  std::unique_ptr<kind_counter> counter;
  channel_registry_config config;
  std::unordered_map<std::string, channel_slot> channels;
};

using channel_registry_actor = instrumented_actor<channel_registry_state>;

caf::behavior channel_registry_impl(channel_registry_actor* self,
                                    std::shared_ptr<node_stats> stats,
                                    channel_registry_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(std::move(stats),
                                              actor_kind::channel_registry);
  st.config = std::move(config);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& channels = self->state.channels;
    for (auto i = channels.begin(); i != channels.end(); ++i)
      if (i->second.channel.address() == down.source) {
        spdlog::error("channel_registry: channel {} died: {}", i->first,
                      caf::to_string(down.reason));
        channels.erase(i);
        return;
      }
  });
  return {
      [=](channel_join_atom, const std::string& name, channel_join& join) {
        auto& st = self->state;
        auto& slot = st.channels[name];
        if (!slot.channel) {
          channel_config config;
          config.name = name;
          config.prefix = st.config.key_prefix;
          config.redis_bridge = st.config.redis_bridge;
          config.redis_timeout = st.config.redis_timeout;
          config.history = st.config.history;
          config.has_presence = live::has_presence(name);
          config.presence = st.config.presence;
          config.presence_refresh = st.config.presence_refresh;
          slot.channel =
              spawn_channel(self, st.counter->stats_ptr(), std::move(config));
          self->monitor(slot.channel);
        }
        ++slot.forwarded;
        self->send(slot.channel, channel_join_atom::value, std::move(join));
      },
      [=](channel_leave_atom, const std::string& name,
          const caf::actor& connection) {
        auto& st = self->state;
        auto i = st.channels.find(name);
        if (i == st.channels.end())
          return;
        ++i->second.forwarded;
        self->send(i->second.channel, channel_leave_atom::value, connection);
      },
      [=](channel_idle_atom, const std::string& name, uint64_t handled) {
        auto& st = self->state;
        auto i = st.channels.find(name);
        if (i == st.channels.end() ||
            i->second.channel != self->current_sender() ||
            i->second.forwarded != handled)
          return;
        self->demonitor(i->second.channel);
        self->send(i->second.channel, channel_stop_atom::value);
        st.channels.erase(i);
      },
  };
}

} // namespace

caf::actor spawn_channel_registry(caf::actor_system& system,
                                  std::shared_ptr<node_stats> stats,
                                  channel_registry_config config) {
  return system.spawn(channel_registry_impl, std::move(stats),
                      std::move(config));
}

} // namespace switchboard

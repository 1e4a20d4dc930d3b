// user_registry — see user_registry.hpp. Retirement is exact, as in
// channel_registry: the registry counts joins and leaves it forwarded, the
// user actor reports how many it handled when it became empty, and only when
// the two agree is it stopped (per-sender order makes that safe).
#include "actors/user_registry/user_registry.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "actors/user/user.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace switchboard {

namespace {

struct user_slot {
  caf::actor user_actor;
  uint64_t forwarded = 0;
};

struct user_registry_state {
  static inline const char* name = "user_registry";
  std::unique_ptr<kind_counter> counter;
  user_registry_config config;
  std::unordered_map<int64_t, user_slot> users;
};

using user_registry_actor = instrumented_actor<user_registry_state>;

constexpr std::size_t users_per_refresh = 500;

void send_presence(user_registry_actor* self, redis_command command) {
  self->request(self->state.config.redis_bridge,
                self->state.config.redis_timeout, redis_cmd_atom::value,
                std::move(command))
      .then(
          [](redis_reply& reply) {
            if (!reply.ok())
              spdlog::warn("user_registry: presence not updated: {}",
                           reply.str);
          },
          [](caf::error& e) {
            spdlog::warn("user_registry: presence not updated: {}",
                         caf::to_string(e));
          });
}

/// Renews every user here (in slices), and lets Redis retire users whose
/// node stopped renewing them.
void refresh_presence(user_registry_actor* self) {
  auto& st = self->state;
  std::vector<int64_t> users;
  for (auto& [user, slot] : st.users) {
    users.push_back(user);
    if (users.size() == users_per_refresh) {
      send_presence(self,
                    live::presence_refresh_command(st.config.presence, users));
      users.clear();
    }
  }
  send_presence(self,
                live::presence_refresh_command(st.config.presence, users));
}

caf::behavior user_registry_impl(user_registry_actor* self,
                                 std::shared_ptr<node_stats> stats,
                                 user_registry_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(std::move(stats),
                                              actor_kind::user_registry);
  st.config = std::move(config);
  self->delayed_send(self, st.config.presence_refresh, tick_atom::value);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& users = self->state.users;
    for (auto i = users.begin(); i != users.end(); ++i)
      if (i->second.user_actor.address() == down.source) {
        spdlog::error("user_registry: the actor of user {} died: {}", i->first,
                      caf::to_string(down.reason));
        users.erase(i);
        return;
      }
  });
  return {
      [=](user_join_atom, int64_t user_id, std::string& token,
          caf::actor& connection) {
        auto& st = self->state;
        auto& slot = st.users[user_id];
        if (!slot.user_actor) {
          slot.user_actor = spawn_user(
              self, st.counter->stats_ptr(),
              user_config{user_id, st.config.key_prefix, st.config.redis_bridge,
                          st.config.redis_timeout, st.config.token_check});
          self->monitor(slot.user_actor);
          send_presence(self, live::presence_refresh_command(st.config.presence,
                                                             {user_id}));
        }
        ++slot.forwarded;
        self->send(slot.user_actor, user_join_atom::value, std::move(token),
                   std::move(connection));
      },
      [=](user_leave_atom, int64_t user_id, const caf::actor& connection) {
        auto& st = self->state;
        auto i = st.users.find(user_id);
        if (i == st.users.end())
          return;
        ++i->second.forwarded;
        self->send(i->second.user_actor, user_leave_atom::value, connection);
      },
      [=](logout_atom, int64_t user_id, const std::string& token) {
        auto& st = self->state;
        auto i = st.users.find(user_id);
        if (i != st.users.end())
          self->send(i->second.user_actor, logout_atom::value, token);
      },
      [=](user_idle_atom, int64_t user_id, uint64_t handled) {
        auto& st = self->state;
        auto i = st.users.find(user_id);
        if (i == st.users.end() ||
            i->second.user_actor != self->current_sender() ||
            i->second.forwarded != handled)
          return;
        self->demonitor(i->second.user_actor);
        self->send(i->second.user_actor, user_stop_atom::value);
        st.users.erase(i);
        send_presence(
            self, live::presence_leave_command(st.config.presence, user_id));
      },
      [=](tick_atom) {
        refresh_presence(self);
        self->delayed_send(self, self->state.config.presence_refresh,
                           tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_user_registry(caf::actor_system& system,
                               std::shared_ptr<node_stats> stats,
                               user_registry_config config) {
  return system.spawn(user_registry_impl, std::move(stats), std::move(config));
}

} // namespace switchboard

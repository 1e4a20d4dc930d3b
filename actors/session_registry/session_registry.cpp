// session_registry — see session_registry.hpp. Retirement is exact, as in
// channel_registry: the registry counts joins and leaves it forwarded, the
// session reports how many it handled when it became empty, and only when
// the two agree is it stopped (per-sender order makes that safe).
#include "actors/session_registry/session_registry.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"

#include "actors/session/session.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace switchboard {

namespace {

struct session_slot {
  caf::actor session;
  uint64_t forwarded = 0;
};

struct session_registry_state {
  static inline const char* name = "session_registry";
  std::unique_ptr<kind_counter> counter;
  session_registry_config config;
  std::unordered_map<int64_t, session_slot> sessions;
};

using session_registry_actor = instrumented_actor<session_registry_state>;

constexpr std::size_t users_per_refresh = 500;

void send_presence(session_registry_actor* self, redis_command command) {
  self->request(self->state.config.redis_bridge,
                self->state.config.redis_timeout, redis_cmd_atom::value,
                std::move(command))
      .then(
          [](redis_reply& reply) {
            if (!reply.ok())
              spdlog::warn("session_registry: presence not updated: {}",
                           reply.str);
          },
          [](caf::error& e) {
            spdlog::warn("session_registry: presence not updated: {}",
                         caf::to_string(e));
          });
}

/// Renews every user here (in slices), and lets Redis retire users whose
/// node stopped renewing them.
void refresh_presence(session_registry_actor* self) {
  auto& st = self->state;
  std::vector<int64_t> users;
  for (auto& [user, slot] : st.sessions) {
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

caf::behavior session_registry_impl(session_registry_actor* self,
                                    std::shared_ptr<node_stats> stats,
                                    session_registry_config config) {
  auto& st = self->state;
  st.counter = std::make_unique<kind_counter>(std::move(stats),
                                              actor_kind::session_registry);
  st.config = std::move(config);
  self->delayed_send(self, st.config.presence_refresh, tick_atom::value);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& sessions = self->state.sessions;
    for (auto i = sessions.begin(); i != sessions.end(); ++i)
      if (i->second.session.address() == down.source) {
        spdlog::error("session_registry: session of user {} died: {}", i->first,
                      caf::to_string(down.reason));
        sessions.erase(i);
        return;
      }
  });
  return {
      [=](session_join_atom, int64_t user_id, std::string& token,
          caf::actor& connection) {
        auto& st = self->state;
        auto& slot = st.sessions[user_id];
        if (!slot.session) {
          slot.session = spawn_session(
              self, st.counter->stats_ptr(),
              session_config{user_id, st.config.key_prefix,
                             st.config.redis_bridge, st.config.redis_timeout,
                             st.config.token_check});
          self->monitor(slot.session);
          send_presence(self, live::presence_refresh_command(st.config.presence,
                                                             {user_id}));
        }
        ++slot.forwarded;
        self->send(slot.session, session_join_atom::value, std::move(token),
                   std::move(connection));
      },
      [=](session_leave_atom, int64_t user_id, const caf::actor& connection) {
        auto& st = self->state;
        auto i = st.sessions.find(user_id);
        if (i == st.sessions.end())
          return;
        ++i->second.forwarded;
        self->send(i->second.session, session_leave_atom::value, connection);
      },
      [=](logout_atom, int64_t user_id, const std::string& token) {
        auto& st = self->state;
        auto i = st.sessions.find(user_id);
        if (i != st.sessions.end())
          self->send(i->second.session, logout_atom::value, token);
      },
      [=](session_idle_atom, int64_t user_id, uint64_t handled) {
        auto& st = self->state;
        auto i = st.sessions.find(user_id);
        if (i == st.sessions.end() ||
            i->second.session != self->current_sender() ||
            i->second.forwarded != handled)
          return;
        self->demonitor(i->second.session);
        self->send(i->second.session, session_stop_atom::value);
        st.sessions.erase(i);
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

caf::actor spawn_session_registry(caf::actor_system& system,
                                  std::shared_ptr<node_stats> stats,
                                  session_registry_config config) {
  return system.spawn(session_registry_impl, std::move(stats),
                      std::move(config));
}

} // namespace switchboard

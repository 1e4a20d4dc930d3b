// user — see user.hpp.
//
// Missing a logout is the failure to guard against: Pub/Sub is
// at-most-once, and a SUBSCRIBE takes effect some time after it is sent.
// So a token is trusted only once it has been checked (EXISTS) after the
// subscription is known to be live: the user actor PUBLISHes a "hello <nonce>"
// to its own control channel and, when it comes back, checks every token it
// holds; a token joining later is checked on arrival. A logout published
// before that moment deleted the token first, so the check sees it gone;
// one published after is received. The same happens after every
// resubscription, which covers logouts sent while the subscription was down.
// And every token_check all tokens are checked again: a token can also end
// without a logout message (it expired unused, or its key was removed).
#include "actors/user/user.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/redis.hpp"
#include "switchboard/session_keys.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <set>
#include <vector>

namespace switchboard {

namespace {

struct member {
  caf::actor connection;
  std::string token;
};

struct user_state {
  static inline const char* name = "user";
  std::unique_ptr<kind_counter> counter;
  user_config config;
  caf::actor parent;
  std::vector<member> members;
  bool confirmed = false; // the control subscription is known to be live
  std::string hello_nonce;
  uint64_t hellos_sent = 0;
  std::chrono::milliseconds hello_retry{250};
  uint64_t handled = 0; // joins and leaves handled
};

using user_actor = instrumented_actor<user_state>;

std::string control_channel(const user_state& st) {
  return sessions::control_channel(st.config.prefix, st.config.user_id);
}

void close_token(user_actor* self, const std::string& token) {
  for (auto& m : self->state.members)
    if (m.token == token)
      self->send(m.connection, logout_atom::value);
}

void check_token(user_actor* self, const std::string& token) {
  auto& st = self->state;
  self->request(
          st.config.redis_bridge, st.config.redis_timeout,
          redis_cmd_atom::value,
          redis_command{"EXISTS", sessions::token_key(st.config.prefix, token)})
      .then(
          [self, token](redis_reply& reply) {
            if (reply.type == redis_reply::kind::integer && reply.integer == 0)
              close_token(self, token);
            // An error leaves the token alone: absence was not shown.
          },
          [](caf::error&) {});
}

/// Sends a hello through Redis; its return proves the subscription live.
/// Until it returns (the PUBLISH may beat the SUBSCRIBE, or Redis may be
/// away) it is repeated, backing off to one every 10 s.
void say_hello(user_actor* self) {
  auto& st = self->state;
  st.confirmed = false;
  auto generation = ++st.hellos_sent;
  st.hello_nonce =
      std::to_string(self->id()) + "." + std::to_string(generation);
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"PUBLISH", control_channel(st),
                              "hello " + st.hello_nonce})
      .then([](redis_reply&) {}, [](caf::error&) {});
  self->delayed_send(self, st.hello_retry, tick_atom::value, generation);
  st.hello_retry =
      std::min(st.hello_retry * 2, std::chrono::milliseconds{10'000});
}

void on_control_message(user_actor* self, const std::string& payload) {
  auto& st = self->state;
  std::string_view text{payload};
  if (text.rfind("logout ", 0) == 0) {
    close_token(self, std::string{text.substr(7)});
    return;
  }
  if (text.rfind("hello ", 0) == 0 && !st.confirmed &&
      text.substr(6) == st.hello_nonce) {
    st.confirmed = true;
    st.hello_retry = std::chrono::milliseconds{250};
    std::set<std::string> tokens;
    for (auto& m : st.members)
      tokens.insert(m.token);
    for (auto& token : tokens)
      check_token(self, token);
  }
  // Anything else (another node's hello) is not for us.
}

void remove_member(user_actor* self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& members = st.members;
  members.erase(std::remove_if(members.begin(), members.end(),
                               [&](const member& m) {
                                 return m.connection.address() == who;
                               }),
                members.end());
  if (members.empty())
    self->send(st.parent, user_idle_atom::value, st.config.user_id, st.handled);
}

caf::behavior user_impl(user_actor* self, std::shared_ptr<node_stats> stats,
                        user_config config, caf::actor parent) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::user);
  st.config = std::move(config);
  st.parent = std::move(parent);
  self->delayed_send(self, st.config.token_check, tick_atom::value);
  self->send(st.config.redis_bridge, redis_sub_atom::value,
             control_channel(st));
  self->monitor(st.parent);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == self->state.parent.address()) {
      self->quit(); // the registry is gone: nobody would retire us
      return;
    }
    remove_member(self, down.source);
  });
  return {
      [=](user_join_atom, std::string& token, caf::actor& connection) {
        auto& st = self->state;
        ++st.handled;
        self->monitor(connection);
        st.members.push_back(member{connection, token});
        if (st.confirmed)
          check_token(self, token);
      },
      [=](user_leave_atom, const caf::actor& connection) {
        ++self->state.handled;
        self->demonitor(connection);
        remove_member(self, connection.address());
      },
      [=](logout_atom, const std::string& token) { close_token(self, token); },
      [=](user_stop_atom) {
        self->send(self->state.config.redis_bridge, redis_unsub_atom::value,
                   control_channel(self->state));
        self->quit();
      },
      [=](redis_msg_atom, const std::string&, const std::string& payload) {
        on_control_message(self, payload);
      },
      [=](redis_resub_atom) { say_hello(self); },
      [=](tick_atom, uint64_t generation) {
        auto& st = self->state;
        if (!st.confirmed && generation == st.hellos_sent)
          say_hello(self);
      },
      [=](tick_atom) {
        auto& st = self->state;
        std::set<std::string> tokens;
        for (auto& m : st.members)
          tokens.insert(m.token);
        for (auto& token : tokens)
          check_token(self, token);
        self->delayed_send(self, st.config.token_check, tick_atom::value);
      },
      [=](redis_lost_atom) { self->state.confirmed = false; },
      [=](redis_up_atom) {},
      [=](redis_down_atom) {},
  };
}

} // namespace

caf::actor spawn_user(caf::local_actor* parent,
                      std::shared_ptr<node_stats> stats, user_config config) {
  return parent->system().spawn(user_impl, std::move(stats), std::move(config),
                                caf::actor_cast<caf::actor>(parent));
}

} // namespace switchboard

// memory_redis — an in-memory twin of the redis_bridge actor for unit tests
// on CAF's deterministic scheduler (as Centrifuge keeps broker_memory beside
// broker_redis): it speaks the bridge's protocol — `(redis_cmd_atom,
// redis_command) -> redis_reply`, `(redis_sub_atom, channel)` confirmed at
// once with `redis_resub_atom`, `(redis_unsub_atom, channel)` — over a map
// of strings, and delivers a PUBLISH to its subscribers as `(redis_msg_atom,
// channel, payload)`. It knows GET, SET, DEL, EXISTS and PUBLISH; anything
// else answers an error, so a test sees what it did not model. Every
// command is recorded. Lua scripts are not run here: their own tests run
// against the real Redis (tests/integration).
#pragma once

#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include <caf/all.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace switchboard::twins {

/// Answers every held reply (see memory_redis_state::hold).
using memory_redis_release_atom = caf::atom_constant<caf::atom("mr_release")>;

struct memory_redis_state {
  std::map<std::string, std::string> strings;
  std::map<std::string, std::vector<caf::actor>> subscribers;
  std::vector<redis_command> commands;
  int drop_publishes = 0;  // lose this many PUBLISHes (Pub/Sub is at-most-once)
  bool down = false;       // answer like a bridge whose Redis is gone
  bool scripts_ok = false; // answer every EVAL with 1 (a test that does not
                           // look at what its actor's scripts do)
  /// When set, answers EVAL (a test models the one script it looks at).
  std::function<redis_reply(const redis_command&)> eval;
  bool hold = false; // keep replies until memory_redis_release_atom: a
                     // Redis that is slow to answer
  std::vector<std::pair<caf::response_promise, redis_reply>> held;
  std::string label; // CAF 0.17 needs an argument (see cache_test.cpp)
};

inline redis_reply integer_reply(long long n) {
  redis_reply r;
  r.type = redis_reply::kind::integer;
  r.integer = n;
  return r;
}

inline redis_reply run_command(caf::stateful_actor<memory_redis_state>* self,
                               const redis_command& cmd) {
  auto& st = self->state;
  if (st.down)
    return redis_reply::unavailable_reply("down");
  const auto& op = cmd.at(0);
  if (op == "GET") {
    auto i = st.strings.find(cmd.at(1));
    if (i == st.strings.end())
      return {};
    redis_reply r;
    r.type = redis_reply::kind::string;
    r.str = i->second;
    return r;
  }
  if (op == "MGET") {
    redis_reply r;
    r.type = redis_reply::kind::array;
    for (std::size_t i = 1; i < cmd.size(); ++i) {
      auto& element = r.elements.emplace_back();
      if (auto found = st.strings.find(cmd[i]); found != st.strings.end()) {
        element.type = redis_reply::kind::string;
        element.str = found->second;
      }
    }
    return r;
  }
  if (op == "SET") {
    st.strings[cmd.at(1)] = cmd.at(2);
    redis_reply r;
    r.type = redis_reply::kind::status;
    r.str = "OK";
    return r;
  }
  if (op == "DEL" || op == "EXISTS") {
    long long n = 0;
    for (std::size_t i = 1; i < cmd.size(); ++i)
      if (op == "DEL" ? st.strings.erase(cmd[i]) > 0
                      : st.strings.count(cmd[i]) > 0)
        ++n;
    return integer_reply(n);
  }
  if (op == "PUBLISH") {
    if (st.drop_publishes > 0) {
      --st.drop_publishes;
      return integer_reply(0);
    }
    auto& subs = st.subscribers[cmd.at(1)];
    for (auto& who : subs)
      self->send(who, redis_msg_atom::value, cmd.at(1), cmd.at(2));
    return integer_reply(static_cast<long long>(subs.size()));
  }
  if (op == "EVAL" && st.eval)
    return st.eval(cmd);
  if (op == "EVAL" && st.scripts_ok)
    return integer_reply(1);
  redis_reply r;
  r.type = redis_reply::kind::error;
  r.str = "ERR memory_redis does not model " + op;
  return r;
}

inline caf::behavior memory_redis(caf::stateful_actor<memory_redis_state>* self,
                                  std::string label) {
  self->state.label = std::move(label);
  return {
      [=](redis_cmd_atom, redis_command& cmd) -> caf::result<redis_reply> {
        auto& st = self->state;
        st.commands.push_back(cmd);
        auto reply = run_command(self, cmd);
        if (!st.hold)
          return reply;
        auto promise = self->make_response_promise<redis_reply>();
        st.held.emplace_back(promise, std::move(reply));
        return promise;
      },
      [=](memory_redis_release_atom) {
        auto& st = self->state;
        st.hold = false;
        for (auto& [promise, reply] : st.held)
          promise.deliver(reply);
        st.held.clear();
      },
      [=](redis_sub_atom, const std::string& channel) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        self->state.subscribers[channel].push_back(who);
        self->send(who, redis_resub_atom::value);
      },
      [=](redis_unsub_atom, const std::string& channel) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        auto& subs = self->state.subscribers[channel];
        subs.erase(std::remove(subs.begin(), subs.end(), who), subs.end());
      },
  };
}

} // namespace switchboard::twins

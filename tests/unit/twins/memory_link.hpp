// memory_link — an in-memory twin of one Redis connection (the redis_link
// contract, include/switchboard/redis_link.hpp) for the redis_bridge's unit
// tests: it records what it is asked and lets the test play Redis — answer
// a command, confirm a SUBSCRIBE, deliver a message, go up or down. Handlers
// run on the test's thread, where the bridge turns them into messages.
#pragma once

#include "switchboard/redis_link.hpp"

#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::twins {

class memory_link : public redis_link {
public:
  // What the bridge asked.
  std::deque<std::pair<redis_command, reply_handler>> sent;
  std::set<std::string> channels;
  std::vector<std::string> reconnects;
  bool started = false, stopped = false;

  void start(state_handler on_state) override {
    started = true;
    on_state_ = std::move(on_state);
  }
  void send(redis_command command, reply_handler handler) override {
    sent.emplace_back(std::move(command), std::move(handler));
  }
  void stop(std::function<void()> done) override {
    stopped = true;
    if (done)
      done();
  }
  void on_subscribed(subscribed_handler handler) override {
    on_subscribed_ = std::move(handler);
  }
  void on_message(message_handler handler) override {
    on_message_ = std::move(handler);
  }
  void subscribe(std::string channel) override {
    channels.insert(std::move(channel));
  }
  void unsubscribe(std::string channel) override { channels.erase(channel); }
  void reconnect(std::string why) override {
    reconnects.push_back(std::move(why));
  }

  // Redis's moves.
  void set_up(bool up) { on_state_(up); }
  void confirm(const std::string& channel) { on_subscribed_(channel); }
  void deliver(const std::string& channel, const std::string& payload) {
    on_message_(channel, payload);
  }
  /// Answers the oldest command not answered yet; returns it.
  redis_command answer(redis_reply reply) {
    auto [command, handler] = std::move(sent.front());
    sent.pop_front();
    handler(std::move(reply));
    return command;
  }

private:
  state_handler on_state_;
  subscribed_handler on_subscribed_;
  message_handler on_message_;
};

} // namespace switchboard::twins

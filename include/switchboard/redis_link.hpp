// redis_link — what the redis_bridge actor needs of one Redis connection, so
// the bridge depends on this contract and not on hiredis: the node gives it
// src/redis/redis_connection (hiredis on the io thread), the unit tests an
// in-memory twin (tests/unit/twins/memory_link.hpp). Every member may be
// called from any thread and must not block; every handler may run on any
// thread (the bridge turns them into messages to itself).
#pragma once

#include "switchboard/redis.hpp"

#include <functional>
#include <string>

namespace switchboard {

class redis_link {
public:
  using reply_handler = std::function<void(redis_reply)>;
  using state_handler = std::function<void(bool up)>;
  using message_handler =
      std::function<void(std::string channel, std::string payload)>;
  using subscribed_handler = std::function<void(std::string channel)>;

  virtual ~redis_link() = default;

  /// Starts connecting; `on_state` hears every up/down transition (for a
  /// subscriber link, "up" once Redis has confirmed its subscriptions).
  virtual void start(state_handler on_state) = 0;

  /// Sends `command`; `handler` always runs exactly once, with an
  /// `unavailable` reply when the link is down or lost.
  virtual void send(redis_command command, reply_handler handler) = 0;

  /// Disconnects for good; pending handlers get `unavailable`. `done`, if
  /// given, runs once the link has let go of everything.
  virtual void stop(std::function<void()> done = nullptr) = 0;

  /// Subscriber links: `handler` hears that Redis confirmed the SUBSCRIBE
  /// of one channel (only then are its messages certain to come); messages
  /// go to `on_message`. Both set before start().
  virtual void on_subscribed(subscribed_handler handler) = 0;
  virtual void on_message(message_handler handler) = 0;

  /// Subscriber links: adds/removes channels; kept across reconnects.
  virtual void subscribe(std::string channel) = 0;
  virtual void unsubscribe(std::string channel) = 0;

  /// Drops the connection and connects again (a probe went missing).
  virtual void reconnect(std::string why) = 0;
};

} // namespace switchboard

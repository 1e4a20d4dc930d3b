// delivery_lane — the one io thread's side of switchboard::delivery_lane
// (include/switchboard/live.hpp): runs a channel's delivery to many sinks
// as one handler, and flushes the connections that got output once the
// handlers ready before the flush have run. It also ticks every live
// connection once a second (keep-alive pings, SSE heartbeats, close
// deadlines), so idle connections need no timer of their own: a pending
// timer wait costs a few hundred bytes per connection.
// Must never: be used when several io threads serve the sessions (it runs
// session code outside their strands; node.cpp makes one only for one io
// thread), or write to a socket itself (sessions own their sockets).
#pragma once

#include "switchboard/live.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace switchboard::net {

/// A session with output to write (websocket_session, sse_session).
class flushable {
public:
  virtual ~flushable() = default;
  virtual void flush() = 0;
  /// Once a second while the session lives (see io_delivery_lane::watch).
  virtual void tick(std::chrono::steady_clock::time_point now) = 0;

protected:
  /// Set by io_delivery_lane::want_flush, cleared by the session when it
  /// writes: a session is in the lane's list at most once.
  bool flush_wanted_ = false;
  friend class io_delivery_lane;
};

class io_delivery_lane : public delivery_lane,
                         public std::enable_shared_from_this<io_delivery_lane> {
public:
  /// `coalesce_max`: see live_coalesce_max_ms (docs/operations.md).
  io_delivery_lane(boost::asio::any_io_executor io,
                   std::chrono::milliseconds coalesce_max)
      : io_(io), coalesce_max_(coalesce_max), flusher_(io), ticker_(io) {}

  void deliver(sink_list sinks, push_ptr message) override;

  /// On the io thread: `session` has queued output; it is flushed after the
  /// handlers that are ready now (once, however often it asks).
  void want_flush(std::shared_ptr<flushable> session);

  /// On the io thread: ticks `session` every second until it is gone.
  void watch(std::weak_ptr<flushable> session);

  /// On the io thread, at shutdown: no more ticks, so the loop can run dry.
  void stop();

private:
  void flush_all();
  void tick_all();

  boost::asio::any_io_executor io_;
  std::vector<std::shared_ptr<flushable>> pending_; // io thread only
  std::vector<std::shared_ptr<flushable>> flushing_;
  bool flush_posted_ = false;
  // A pass that took long (a big fan-out) is followed by a wait as long,
  // up to coalesce_max_: the next pass then carries several frames per
  // connection, so the cost per push falls as the load rises.
  std::chrono::milliseconds coalesce_max_;
  std::chrono::steady_clock::duration last_pass_{};
  std::chrono::steady_clock::time_point last_pass_end_{};
  boost::asio::steady_timer flusher_;
  std::vector<std::weak_ptr<flushable>> watched_; // io thread only
  boost::asio::steady_timer ticker_;
  bool ticking_ = false;
  bool stopped_ = false;
};

} // namespace switchboard::net

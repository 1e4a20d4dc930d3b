// bench/loadgen/publisher.hpp — the open-loop publisher.
// Owns: the schedule (message n of a step is due at start + n / rate, whether
// or not the server kept up — a slow publish path shows as latency, since
// latency is measured from the scheduled time), the queue of due messages and
// K keep-alive HTTP connections that post them, one request in flight each.
// Must never: wait for a reply before scheduling the next message (that would
// be a closed loop, hiding the server's slowness), or grow its queue without
// bound (past max_queued, due messages count as publish errors).
#pragma once

#include "options.hpp"
#include "run_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <memory>
#include <vector>

namespace loadgen {

struct due_message {
  uint64_t seq;
  int channel;
  int64_t scheduled_us;
};

class publisher {
public:
  publisher(boost::asio::io_context& io, const options& opts, run_state& state);
  ~publisher();

  // Opens the K connections; `done(ok)` once all are up or one failed.
  void connect(std::function<void(bool)> done);
  // Starts scheduling at `rate` msg/s from now (a new step).
  void start(double rate);
  // Stops scheduling; what is queued is still sent.
  void stop();
  uint64_t next_seq() const { return next_seq_; }
  bool idle() const;

  uint64_t published = 0, errors = 0;
  // Why publishes failed, by HTTP status (0: connection broken, 1: queue
  // full), reset by the caller per step.
  std::map<unsigned, uint64_t> error_statuses;

  // Used by the connections.
  void finished(bool ok, unsigned status = 0);
  std::string body_for(const due_message& message) const;
  std::string target_for(const due_message& message) const;

private:
  class connection;
  void tick();
  void dispatch();

  boost::asio::io_context& io_;
  const options& opts_;
  run_state& state_;
  boost::asio::steady_timer timer_;
  std::vector<std::shared_ptr<connection>> connections_;
  std::deque<due_message> queue_;
  double rate_ = 0;
  bool running_ = false;
  int64_t step_start_us_ = 0;
  uint64_t step_scheduled_ = 0;
  uint64_t next_seq_ = 0;
  int in_flight_ = 0;
  std::size_t next_connection_ = 0;
  std::string pad_;
  static constexpr size_t max_queued = 1u << 20;
};

} // namespace loadgen

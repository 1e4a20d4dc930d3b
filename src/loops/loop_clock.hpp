// loop_clock — CAF's actor clock for one event loop: the timeouts, request
// timeouts and delayed messages that the actors of that loop set, fired by
// one Asio timer of the loop itself, so no clock thread wakes up for them
// (CAF's own clock runs a thread that every request timeout wakes twice).
// Only its loop's thread may touch it: the coordinator hands each thread
// its own loop's clock (loop_coordinator::clock).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/detail/simple_actor_clock.hpp>

namespace switchboard::loops {

class loop_clock final : public caf::detail::simple_actor_clock {
public:
  using super = caf::detail::simple_actor_clock;

  explicit loop_clock(boost::asio::io_context& io) : timer_(io) {}

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override;
  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override;
  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override;
  void schedule_message(time_point t, caf::group target,
                        caf::strong_actor_ptr sender,
                        caf::message content) override;
  // Cancelling leaves the timer armed: it fires once for nothing and is
  // armed again for what is left, cheaper than re-arming on every answer.

  /// Drops every event (their actor references with them) and the timer.
  void stop();

private:
  /// Arms the timer for the earliest event if it is not armed for sooner.
  void arm();

  boost::asio::steady_timer timer_;
  bool armed_ = false;
  time_point armed_for_;
};

} // namespace switchboard::loops

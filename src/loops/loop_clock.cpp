// loop_clock — see loop_clock.hpp.
#include "src/loops/loop_clock.hpp"

namespace switchboard::loops {

void loop_clock::set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                                      caf::atom_value type, uint64_t id) {
  super::set_ordinary_timeout(t, self, type, id);
  arm();
}

void loop_clock::set_multi_timeout(time_point t, caf::abstract_actor* self,
                                   caf::atom_value type, uint64_t id) {
  super::set_multi_timeout(t, self, type, id);
  arm();
}

void loop_clock::set_request_timeout(time_point t, caf::abstract_actor* self,
                                     caf::message_id id) {
  super::set_request_timeout(t, self, id);
  arm();
}

void loop_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                  caf::mailbox_element_ptr content) {
  super::schedule_message(t, std::move(receiver), std::move(content));
  arm();
}

void loop_clock::schedule_message(time_point t, caf::group target,
                                  caf::strong_actor_ptr sender,
                                  caf::message content) {
  super::schedule_message(t, std::move(target), std::move(sender),
                          std::move(content));
  arm();
}

void loop_clock::stop() {
  cancel_all();
  timer_.cancel();
  armed_ = false;
}

void loop_clock::arm() {
  if (schedule().empty())
    return;
  auto due = schedule().begin()->first;
  if (armed_ && armed_for_ <= due)
    return; // it fires sooner and re-arms then
  armed_ = true;
  armed_for_ = due;
  // Setting the expiry cancels a pending wait: its handler sees `aborted`.
  timer_.expires_at(due);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec)
      return; // cancelled: a sooner wait replaced this one, or stop()
    armed_ = false;
    trigger_expired_timeouts();
    arm();
  });
}

} // namespace switchboard::loops

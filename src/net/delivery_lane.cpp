// delivery_lane — see delivery_lane.hpp.
#include "src/net/delivery_lane.hpp"

#include <boost/asio/post.hpp>

namespace switchboard::net {

void io_delivery_lane::deliver(sink_list sinks, push_ptr message) {
  boost::asio::post(io_,
                    [sinks = std::move(sinks), message = std::move(message)] {
                      for (const auto& sink : *sinks)
                        sink->push_on_lane(message);
                    });
}

void io_delivery_lane::want_flush(std::shared_ptr<flushable> session) {
  pending_.push_back(std::move(session));
  if (flush_posted_)
    return;
  flush_posted_ = true;
  // Posted behind what is ready now: deliveries that arrived meanwhile join
  // this flush instead of costing a send each.
  boost::asio::post(io_, [this] { flush_all(); });
}

void io_delivery_lane::flush_all() {
  flush_posted_ = false;
  flushing_.swap(pending_);
  for (auto& session : flushing_)
    session->flush();
  flushing_.clear();
}

} // namespace switchboard::net

// delivery_lane — see delivery_lane.hpp.
#include "src/net/delivery_lane.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace switchboard::net {

void io_delivery_lane::deliver(sink_list sinks, push_ptr message) {
  boost::asio::post(io_,
                    [sinks = std::move(sinks), message = std::move(message)] {
                      for (const auto& sink : *sinks)
                        sink->push_on_lane(message);
                    });
}

void io_delivery_lane::want_flush(std::shared_ptr<flushable> session) {
  if (session->flush_wanted_)
    return;
  session->flush_wanted_ = true;
  pending_.push_back(std::move(session));
  if (flush_posted_)
    return;
  flush_posted_ = true;
  using namespace std::chrono;
  constexpr auto long_pass = milliseconds{2};
  auto now = steady_clock::now();
  auto wait = std::min<steady_clock::duration>(last_pass_, coalesce_max_);
  if (last_pass_ >= long_pass && now < last_pass_end_ + wait) {
    flusher_.expires_at(last_pass_end_ + wait);
    flusher_.async_wait([weak = weak_from_this()](boost::system::error_code) {
      if (auto self = weak.lock())
        self->flush_all();
    });
    return;
  }
  // Posted behind what is ready now: deliveries that arrived meanwhile join
  // this flush instead of costing a send each.
  boost::asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock())
      self->flush_all();
  });
}

void io_delivery_lane::flush_all() {
  flush_posted_ = false;
  auto start = std::chrono::steady_clock::now();
  flushing_.swap(pending_);
  for (auto& session : flushing_)
    session->flush();
  flushing_.clear();
  last_pass_end_ = std::chrono::steady_clock::now();
  last_pass_ = last_pass_end_ - start;
}

void io_delivery_lane::stop() {
  stopped_ = true;
  ticker_.cancel();
}

void io_delivery_lane::watch(std::weak_ptr<flushable> session) {
  watched_.push_back(std::move(session));
  if (ticking_ || stopped_)
    return;
  ticking_ = true;
  tick_all();
}

void io_delivery_lane::tick_all() {
  auto now = std::chrono::steady_clock::now();
  // Sessions that are gone leave by swap-and-pop; the order is irrelevant.
  for (std::size_t i = 0; i < watched_.size();) {
    if (auto session = watched_[i].lock()) {
      session->tick(now);
      ++i;
    } else {
      watched_[i] = std::move(watched_.back());
      watched_.pop_back();
    }
  }
  if (watched_.empty() && watched_.capacity() > 1024)
    std::vector<std::weak_ptr<flushable>>{}.swap(watched_);
  if (stopped_)
    return;
  ticker_.expires_after(std::chrono::seconds{1});
  ticker_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec)
      self->tick_all();
  });
}

} // namespace switchboard::net

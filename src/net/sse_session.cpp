// sse_session — see sse_session.hpp. The header is written with Beast; the
// body is a stream of events with no length, ended by closing the
// connection (so the response says Connection: close).
#include "src/net/sse_session.hpp"

#include "switchboard/atoms.hpp"

#include "src/live/client_frames.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <functional>

namespace switchboard::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// How long events wait for every channel's subscribe reply (see open_gate).
constexpr std::chrono::seconds gate_limit{5};

class sse_sink : public push_sink {
public:
  sse_sink(std::weak_ptr<sse_session> session, delivery_lane* lane)
      : session_(std::move(session)), lane_(lane) {}

  void push(push_ptr message) override {
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(),
                 [s, message] { s->enqueue_push(*message, false); });
  }

  delivery_lane* lane() const override { return lane_; }

  void push_on_lane(const push_ptr& message) override {
    if (auto s = session_.lock())
      s->enqueue_push(*message, true);
  }

  void reply(std::string message) override {
    // A subscribe reply carries the channel's current offset: it joins the
    // resume id, so a reconnect before any event still resumes correctly.
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(), [s, message = std::move(message)] {
        boost::system::error_code ec;
        auto value = boost::json::parse(message, ec);
        if (ec || !value.is_object())
          return;
        auto& obj = value.as_object();
        auto* channel = obj.if_contains("channel");
        auto* offset = obj.if_contains("offset");
        int64_t current = 0;
        if (!channel || !offset || !channel->is_string() ||
            !offset->is_string() ||
            !live::parse_offset(offset->as_string(), current))
          return;
        auto name = std::string{channel->as_string()};
        if (!s->offsets_.count(name))
          s->offsets_[name] = current;
        auto* recovered = obj.if_contains("recovered");
        s->channel_answered(
            name, !recovered || !recovered->is_bool() || recovered->as_bool(),
            current);
      });
  }

  void close(uint16_t, std::string) override {
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(), [s] { s->end(); });
  }

  void when_drained(std::function<void()> then) override {
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(),
                 [s, then = std::move(then)]() mutable {
                   if (s->ended_)
                     return; // never: the stream is gone
                   if (!s->writing_ && s->out_.empty() && s->held_.empty())
                     then();
                   else
                     s->on_drained_.push_back(std::move(then));
                 });
  }

private:
  std::weak_ptr<sse_session> session_;
  delivery_lane* lane_; // outlives every session
};

sse_session::sse_session(beast::tcp_stream&& stream, caf::actor connection,
                         std::size_t max_queue, std::size_t max_queue_bytes,
                         std::shared_ptr<node_stats> stats,
                         live::resume_offsets initial,
                         std::shared_ptr<io_delivery_lane> lane)
    : stream_(stream.release_socket()),
      connection_(std::move(connection)),
      max_queue_(max_queue),
      max_queue_bytes_(max_queue_bytes),
      stats_(std::move(stats)),
      offsets_(std::move(initial)),
      lane_(std::move(lane)),
      opened_at_(std::chrono::steady_clock::now()) {
  stats_->connections.sse.fetch_add(1, std::memory_order_relaxed);
  for (auto& [channel, offset] : offsets_)
    awaiting_.insert(channel);
  gate_open_ = awaiting_.empty();
}

sse_session::~sse_session() {
  stats_->connections.sse.fetch_sub(1, std::memory_order_relaxed);
  if (connection_)
    caf::anon_send(connection_, conn_closed_atom::value);
}

void sse_session::start(
    std::vector<std::pair<std::string, std::string>> extra) {
  auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
      bhttp::status::ok, 11);
  res->set(bhttp::field::server, "switchboard");
  res->set(bhttp::field::content_type, "text/event-stream");
  res->set(bhttp::field::cache_control, "no-cache");
  res->set("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
  for (auto& [name, value] : extra)
    res->set(name, value);
  res->keep_alive(false);
  auto serializer =
      std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
  bhttp::async_write_header(
      stream_, *serializer,
      [self = shared_from_this(), res, serializer](boost::system::error_code ec,
                                                   std::size_t) {
        if (ec)
          return;
        caf::anon_send(self->connection_, sse_open_atom::value,
                       push_sink_ptr{std::make_shared<sse_sink>(
                           self->weak_from_this(), self->lane_.get())});
        // A comment first: some clients report "open" only on the first byte.
        self->enqueue(": open\n\n", false, false);
        self->last_write_ = std::chrono::steady_clock::now();
        self->heartbeat();
        // The pending read keeps the session alive; it completes (with an
        // error) only when the client goes away: it never sends anything.
        self->watch_client();
      });
}

void sse_session::watch_client() {
  // Waits for readability rather than holding a read buffer per stream.
  stream_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->ended_)
          return self->end();
        static thread_local std::array<char, 4096> scratch;
        auto& socket = self->stream_;
        socket.non_blocking(true, ec);
        std::size_t n = ec ? 0 : socket.read_some(asio::buffer(scratch), ec);
        if (ec != asio::error::would_block && (ec || n == 0))
          return self->end(); // gone (a client should not send; ignore it)
        self->watch_client();
      });
}

void sse_session::heartbeat() {
  if (lane_) {
    lane_->watch(weak_from_this());
    return;
  }
  if (!heartbeat_timer_)
    heartbeat_timer_ =
        std::make_unique<asio::steady_timer>(stream_.get_executor());
  heartbeat_timer_->expires_after(std::chrono::seconds{1});
  heartbeat_timer_->async_wait(
      [weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->ended_)
          return;
        self->tick(std::chrono::steady_clock::now());
        self->heartbeat();
      });
}

void sse_session::tick(std::chrono::steady_clock::time_point now) {
  if (ended_)
    return;
  if (!gate_open_ && now - opened_at_ >= gate_limit) {
    // A channel that cannot answer (Redis away) must not hold the others'
    // events for ever; a late reply still reports its outcome.
    spdlog::warn("sse: {} channel(s) not joined after {} s; the stream's "
                 "events go out without their resume outcome",
                 awaiting_.size(), gate_limit.count());
    open_gate();
  }
  if (now - last_write_ < std::chrono::seconds{15})
    return;
  enqueue(": heartbeat\n\n", false, false);
}

void sse_session::channel_answered(const std::string& channel, bool recovered,
                                   int64_t offset) {
  if (ended_)
    return;
  awaiting_.erase(channel);
  if (!recovered) {
    // The client refetches this channel: a later reconnect resumes from
    // where it is now, not again from before the loss.
    offsets_[channel] = offset;
    unrecovered_.push_back(channel);
  }
  if (gate_open_) {
    // A reply after gate_limit opened it: only a loss still needs saying.
    if (!recovered)
      open_gate();
    return;
  }
  if (awaiting_.empty())
    open_gate();
}

void sse_session::open_gate() {
  gate_open_ = true;
  awaiting_.clear();
  std::string events;
  std::size_t count = 0;
  if (!unrecovered_.empty()) {
    boost::json::object channels;
    for (auto& name : unrecovered_)
      channels[name] = false;
    unrecovered_.clear();
    events.append("id: ").append(live::encode_resume(offsets_));
    events.append("\nevent: recovered\ndata: ");
    events.append(boost::json::serialize(
        boost::json::object{{"channels", std::move(channels)}}));
    events.append("\n\n");
    count = 1;
  }
  events.append(held_);
  count += held_events_;
  held_.clear();
  held_events_ = 0;
  if (count == 0)
    return;
  out_.append(events);
  out_events_ += count;
  write_next();
}

void sse_session::enqueue_push(const push_message& message, bool later) {
  if (ended_)
    return;
  // The resume id is per stream: it names every channel's offset.
  offsets_[message.channel] = message.offset;
  std::string id = live::encode_resume(offsets_);
  std::string event;
  event.reserve(id.size() + message.event.size() + message.json.size() + 24);
  event.append("id: ").append(id);
  event.append("\nevent: ").append(message.event);
  event.append("\ndata: ").append(message.json).append("\n\n");
  enqueue(event, later);
}

void sse_session::enqueue(std::string_view bytes, bool later, bool counts) {
  if (ended_)
    return;
  // One bound over everything waiting for this client, history included.
  if (out_events_ + sending_events_ + held_events_ >= max_queue_ ||
      out_.size() + sending_.size() + held_.size() + bytes.size() >
          max_queue_bytes_) {
    stats_->pubsub.dropped.fetch_add(out_events_ + held_events_,
                                     std::memory_order_relaxed);
    end(); // too slow: the client resumes with Last-Event-ID
    return;
  }
  if (counts && !gate_open_) {
    held_.append(bytes); // see open_gate
    ++held_events_;
    return;
  }
  out_.append(bytes);
  out_events_ += counts;
  if (later && lane_) {
    if (!writing_) // else the write's completion takes it
      lane_->want_flush(shared_from_this());
    return;
  }
  write_next();
}

void sse_session::write_next() {
  flush_wanted_ = false;
  if (writing_ || out_.empty() || ended_)
    return;
  writing_ = true;
  last_write_ = std::chrono::steady_clock::now();
  sending_.swap(out_);
  sending_events_ = out_events_;
  out_.clear();
  out_events_ = 0;
  asio::async_write(
      stream_, asio::buffer(sending_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->writing_ = false;
        if (ec) {
          self->end();
          return;
        }
        self->on_written();
      });
}

void sse_session::on_written() {
  stats_->pubsub.delivered.fetch_add(sending_events_,
                                     std::memory_order_relaxed);
  sending_.clear();
  sending_events_ = 0;
  if (sending_.capacity() > 64 * 1024)
    std::string{}.swap(sending_);
  if (out_.empty() && held_.empty() && !on_drained_.empty()) {
    // Senders pacing themselves (history) queue more from here.
    auto drained = std::move(on_drained_);
    on_drained_.clear();
    for (auto& then : drained)
      then();
  }
  write_next();
}

void sse_session::end() {
  if (ended_)
    return;
  ended_ = true;
  out_.clear();
  held_.clear();
  on_drained_.clear();
  if (heartbeat_timer_)
    heartbeat_timer_->cancel();
  boost::system::error_code ignored;
  stream_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close(ignored);
}

} // namespace switchboard::net

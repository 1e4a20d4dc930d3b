// websocket_session — see websocket_session.hpp.
//
// Reads wait for the socket to be readable, then take what is there into a
// buffer shared by the io thread and keep only an incomplete frame, so an
// idle connection holds no buffer. One pass reads at most one scratch
// buffer and handles at most frames_per_pass frames; if more may be there
// it is posted behind the other ready handlers instead of looping, so a
// flood on one socket cannot hold the io thread. Writes gather queued
// frames (up to max_batch frames or max_send_bytes) into one send.
#include "src/net/websocket_session.hpp"

#include "switchboard/atoms.hpp"

#include "src/live/client_frames.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <array>

namespace switchboard::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

namespace {

constexpr auto ping_after = std::chrono::seconds{20}; // of silence
constexpr auto drop_after = std::chrono::seconds{40}; // of silence
constexpr auto close_grace = std::chrono::seconds{2}; // for the close reply
constexpr std::size_t max_batch = 256;                // frames per send
constexpr std::size_t max_send_bytes = 256 * 1024;    // bytes per send
constexpr std::size_t frames_per_pass = 64;           // client frames

} // namespace

class websocket_sink : public push_sink {
public:
  websocket_sink(std::weak_ptr<websocket_session> session, delivery_lane* lane)
      : session_(std::move(session)), lane_(lane) {}

  void push(push_ptr message) override {
    if (auto s = session_.lock())
      asio::post(s->socket_.get_executor(),
                 [s, message = std::move(message)]() mutable {
                   s->enqueue(std::move(message), ws::opcode::text);
                 });
  }

  void reply(std::string message) override {
    auto frame = std::make_shared<push_message>();
    frame->json = std::move(message);
    push(std::move(frame));
  }

  delivery_lane* lane() const override { return lane_; }

  void push_on_lane(const push_ptr& message) override {
    if (auto s = session_.lock())
      s->enqueue(message, ws::opcode::text, true);
  }

  void close(uint16_t code, std::string reason) override {
    if (auto s = session_.lock())
      asio::post(s->socket_.get_executor(),
                 [s, code, reason = std::move(reason)]() mutable {
                   s->close_with(code, std::move(reason));
                 });
  }

  void when_drained(std::function<void()> then) override {
    if (auto s = session_.lock())
      asio::post(s->socket_.get_executor(),
                 [s, then = std::move(then)]() mutable {
                   if (s->shut_ || s->closing_)
                     return; // never: the connection is going
                   if (!s->writing_ && s->queue_.empty())
                     then();
                   else
                     s->on_drained_.push_back(std::move(then));
                 });
  }

private:
  std::weak_ptr<websocket_session> session_;
  delivery_lane* lane_; // outlives every session
};

websocket_session::websocket_session(beast::tcp_stream&& stream,
                                     caf::actor connection,
                                     websocket_limits limits,
                                     std::shared_ptr<node_stats> stats,
                                     std::shared_ptr<io_delivery_lane> lane)
    : handshake_(std::make_unique<handshake_stream>(std::move(stream))),
      socket_(handshake_->get_executor()),
      reader_(limits.max_frame_bytes, close_code::frame_too_large),
      frame_budget_(limits.frame_rate, limits.frame_burst),
      connection_(std::move(connection)),
      limits_(limits),
      stats_(std::move(stats)),
      lane_(std::move(lane)) {
  stats_->connections.ws.fetch_add(1, std::memory_order_relaxed);
}

websocket_session::~websocket_session() {
  stats_->connections.ws.fetch_sub(1, std::memory_order_relaxed);
  if (connection_)
    caf::anon_send(connection_, conn_closed_atom::value);
}

void websocket_session::start(
    beast::http::request<beast::http::string_body> upgrade, std::string token) {
  beast::get_lowest_layer(*handshake_).expires_never();
  handshake_->set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::server, "switchboard");
      }));
  handshake_->async_accept(
      upgrade, [self = shared_from_this(),
                token = std::move(token)](error_code ec) mutable {
        if (ec)
          return; // the destructor tells the actor
        self->socket_ = self->handshake_->next_layer().release_socket();
        self->handshake_.reset();
        error_code ignored;
        self->socket_.non_blocking(true, ignored);
        self->open_ = true;
        self->last_heard_ = std::chrono::steady_clock::now();
        self->start_ticking();
        caf::anon_send(self->connection_, ws_open_atom::value, std::move(token),
                       push_sink_ptr{std::make_shared<websocket_sink>(
                           self->weak_from_this(), self->lane_.get())});
        self->read();
      });
}

void websocket_session::drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->close_with(close_code::going_away, "server going away");
  });
}

void websocket_session::read() {
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void websocket_session::on_readable(error_code ec) {
  if (ec || shut_)
    return shut();
  // One buffer per io thread: only an incomplete frame stays with us.
  static thread_local std::array<char, 64 * 1024> scratch;
  std::size_t n = 0;
  if (discarding_) {
    n = socket_.read_some(asio::buffer(scratch), ec);
    if (ec && ec != asio::error::would_block)
      return shut(); // the client closed too
    if (n == scratch.size())
      asio::post(socket_.get_executor(),
                 [self = shared_from_this()] { self->on_readable({}); });
    else
      read();
    return;
  }
  // Read more only when the last pass took every complete frame: the
  // frames it left (its bound ran out) come first. A partial frame never
  // stops the reading, however large it is.
  if (!backlog_) {
    n = socket_.read_some(asio::buffer(scratch), ec);
    if (ec && ec != asio::error::would_block)
      return shut(); // reset or end of stream: the destructor tells the actor
    if (!ec) {
      last_heard_ = std::chrono::steady_clock::now();
      ping_sent_ = false;
      in_.append(scratch.data(), n);
    }
  }
  auto outcome = handle_frames();
  if (outcome == pass::gone)
    return;
  backlog_ = outcome == pass::more;
  if (outcome == pass::more || n == scratch.size()) {
    // Behind every other ready handler: one socket gets one pass at a time.
    asio::post(socket_.get_executor(),
               [self = shared_from_this()] { self->on_readable({}); });
    return;
  }
  if (in_.empty() && in_.capacity() > 1024) {
    std::string{}.swap(in_);
    reader_.drop_input();
  }
  read();
}

websocket_session::pass websocket_session::handle_frames() {
  using kind = ws::read_event::kind;
  for (std::size_t frames = 0; frames < frames_per_pass; ++frames) {
    auto event = reader_.next(in_);
    if (event.what == kind::need_more)
      return pass::done;
    // Every frame costs, whatever it is, before its content is looked at;
    // once we are closing, only the client's close frame still matters.
    if (!closing_ && !peer_closed_ && !frame_budget_.take()) {
      in_.clear();
      reader_.drop_input();
      fail_with(close_code::rate_limited, "rate limited");
      return shut_ ? pass::gone : pass::done;
    }
    switch (event.what) {
    case kind::need_more:
    case kind::fragment:
    case kind::pong:
      break;
    case kind::text:
      if (!closing_ && !peer_closed_)
        caf::anon_send(connection_, live::parse_client_frame(event.payload));
      break;
    case kind::ping:
      if (!closing_ && !peer_closed_) {
        auto pong = std::make_shared<push_message>();
        pong->json = std::move(event.payload);
        enqueue(std::move(pong), ws::opcode::pong);
        if (shut_)
          return pass::gone;
      }
      break;
    case kind::close:
      if (peer_closed_)
        break;
      peer_closed_ = true;
      if (closing_) { // the answer to our close
        if (!writing_)
          shut();
        return pass::gone;
      }
      // Echo it (RFC 6455 5.5.1), then close the socket once it is sent.
      close_with(event.code == 1005 ? 0 : event.code, "");
      in_.clear();
      reader_.drop_input();
      return shut_ ? pass::gone : pass::done;
    case kind::fail:
      in_.clear();
      reader_.drop_input();
      fail_with(event.code, event.reason);
      return shut_ ? pass::gone : pass::done;
    }
  }
  return pass::more;
}

void websocket_session::enqueue(push_ptr message, uint8_t opcode, bool later) {
  if (!open_ || shut_ || (closing_ && opcode != ws::opcode::close))
    return;
  // One bound over everything queued for this connection, whatever it is:
  // a client that sends pings and never reads is as slow as one that does
  // not read its pushes.
  auto bytes = message->json.size();
  if (opcode != ws::opcode::close &&
      (queue_.size() + sending_.size() >= limits_.max_queue ||
       queued_bytes_ + bytes > limits_.max_queue_bytes)) {
    stats_->pubsub.dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
    fail_with(close_code::too_slow, "consumer too slow");
    return;
  }
  queued_bytes_ += bytes;
  queue_.push_back({std::move(message), opcode});
  if (later && lane_) {
    if (!writing_) // else the write's completion takes it
      lane_->want_flush(shared_from_this());
    return;
  }
  write_next();
}

void websocket_session::write_next() {
  flush_wanted_ = false;
  if (writing_ || queue_.empty() || shut_)
    return;
  // One send carries a bounded amount: a connection with a long backlog
  // cannot make one write pass of the lane take long.
  std::size_t n = 0, bytes = 0;
  while (n < queue_.size() && n < max_batch &&
         (n == 0 || bytes + queue_[n].message->json.size() <= max_send_bytes))
    bytes += queue_[n++].message->json.size();
  sending_.assign(
      std::make_move_iterator(queue_.begin()),
      std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  headers_.resize(n);
  buffers_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& payload = sending_[i].message->json;
    headers_[i] = ws::make_header(sending_[i].opcode, payload.size());
    buffers_.emplace_back(headers_[i].bytes.data(), headers_[i].size);
    if (!payload.empty())
      buffers_.emplace_back(payload.data(), payload.size());
  }
  writing_ = true;
  asio::async_write(socket_, buffers_,
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->sending_.clear();
                        self->queue_.clear();
                        self->queued_bytes_ = 0;
                        return self->shut();
                      }
                      self->on_written();
                    });
}

void websocket_session::on_written() {
  std::size_t pushes = 0;
  bool sent_close = false;
  for (auto& frame : sending_) {
    pushes += frame.opcode == ws::opcode::text;
    sent_close |= frame.opcode == ws::opcode::close;
    queued_bytes_ -= std::min(queued_bytes_, frame.message->json.size());
  }
  stats_->pubsub.delivered.fetch_add(pushes, std::memory_order_relaxed);
  sending_.clear();
  if (sent_close && peer_closed_)
    return shut();
  if (sent_close && fail_after_close_) {
    // Half-close and discard what the client still sends until it closes
    // or the close grace runs out (tick): closing with unread bytes would
    // make the kernel reset the connection and drop our close frame before
    // the client reads it (cf. nginx's lingering_close).
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    discarding_ = true;
    return;
  }
  if (queue_.empty() && !on_drained_.empty() && !closing_) {
    // Senders pacing themselves (history) queue more from here.
    auto drained = std::move(on_drained_);
    on_drained_.clear();
    for (auto& then : drained)
      then();
  }
  write_next();
}

void websocket_session::close_with(uint16_t code, std::string reason) {
  if (!open_ || closing_ || shut_)
    return;
  closing_ = true;
  queue_.clear();
  on_drained_.clear();
  queued_bytes_ = 0;
  for (auto& frame : sending_)
    queued_bytes_ += frame.message->json.size();
  auto frame = std::make_shared<push_message>();
  if (code != 0)
    frame->json = ws::close_payload(code, reason);
  queue_.push_back({std::move(frame), ws::opcode::close});
  // A client that does not read never lets the close frame out, and one
  // that does not answer it keeps the socket: tick() drops it after a moment.
  closing_since_ = std::chrono::steady_clock::now();
  write_next();
}

void websocket_session::fail_with(uint16_t code, std::string reason) {
  // A client that broke a rule gets the close frame but no wait for its
  // answer (RFC 6455 7.1.7, "fail the connection"): it could keep the
  // socket busy with more of the same until the close grace ran out.
  fail_after_close_ = true;
  close_with(code, std::move(reason));
}

void websocket_session::start_ticking() {
  if (lane_) {
    lane_->watch(weak_from_this());
    return;
  }
  if (!timer_)
    timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  timer_->expires_after(std::chrono::seconds{1});
  timer_->async_wait([weak = weak_from_this()](error_code ec) {
    if (auto self = weak.lock(); self && !ec && !self->shut_) {
      self->tick(std::chrono::steady_clock::now());
      self->start_ticking();
    }
  });
}

void websocket_session::tick(std::chrono::steady_clock::time_point now) {
  if (shut_)
    return;
  if (closing_) {
    if (now - closing_since_ >= close_grace)
      shut();
    return;
  }
  auto silent = now - last_heard_;
  if (silent >= drop_after)
    return shut();
  if (silent >= ping_after && !ping_sent_) {
    ping_sent_ = true;
    auto ping = std::make_shared<push_message>();
    enqueue(std::move(ping), ws::opcode::ping);
  }
}

void websocket_session::shut() {
  if (shut_)
    return;
  shut_ = true;
  queue_.clear();
  on_drained_.clear();
  error_code ignored;
  if (timer_)
    timer_->cancel();
  if (handshake_)
    beast::get_lowest_layer(*handshake_).socket().close(ignored);
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  slot_.reset();
}

} // namespace switchboard::net

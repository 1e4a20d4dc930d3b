// websocket_session — see websocket_session.hpp.
//
// Reads wait for the socket to be readable, then take what is there into a
// buffer shared by the io thread and keep only an incomplete frame, so an
// idle connection holds no buffer. Writes gather every queued frame (up to
// max_batch) into one send.
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
    frame->from_history = true; // a reply never counts against the bound
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
  for (;;) {
    std::size_t n = socket_.read_some(asio::buffer(scratch), ec);
    if (ec == asio::error::would_block)
      break;
    if (ec)
      return shut(); // reset or end of stream: the destructor tells the actor
    last_heard_ = std::chrono::steady_clock::now();
    ping_sent_ = false;
    in_.append(scratch.data(), n);
    if (!handle_frames())
      return;
    if (n < scratch.size())
      break;
  }
  if (in_.empty() && in_.capacity() > 1024)
    std::string{}.swap(in_);
  read();
}

bool websocket_session::handle_frames() {
  using kind = ws::read_event::kind;
  for (;;) {
    auto event = reader_.next(in_);
    switch (event.what) {
    case kind::need_more:
    case kind::fragment:
      return true;
    case kind::text:
      if (!closing_ && !peer_closed_)
        caf::anon_send(connection_, live::parse_client_frame(event.payload));
      break;
    case kind::ping:
      if (!closing_ && !peer_closed_) {
        auto pong = std::make_shared<push_message>();
        pong->json = std::move(event.payload);
        pong->from_history = true;
        enqueue(std::move(pong), ws::opcode::pong);
      }
      break;
    case kind::pong:
      break;
    case kind::close:
      if (peer_closed_)
        break;
      peer_closed_ = true;
      if (closing_) { // the answer to our close
        if (!writing_)
          shut();
        return false;
      }
      // Echo it (RFC 6455 5.5.1), then close the socket once it is sent.
      close_with(event.code == 1005 ? 0 : event.code, "");
      in_.clear();
      return !shut_;
    case kind::fail:
      in_.clear();
      close_with(event.code, event.reason);
      return !shut_;
    }
  }
}

void websocket_session::enqueue(push_ptr message, uint8_t opcode, bool later) {
  if (!open_ || shut_ || (closing_ && opcode != ws::opcode::close))
    return;
  if (!message->from_history && queue_.size() >= limits_.max_queue) {
    stats_->pubsub.dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
    close_with(close_code::too_slow, "consumer too slow");
    return;
  }
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
  std::size_t n = std::min(queue_.size(), max_batch);
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
                        return self->shut();
                      }
                      std::size_t pushes = 0;
                      bool sent_close = false;
                      for (auto& frame : self->sending_) {
                        pushes += frame.opcode == ws::opcode::text;
                        sent_close |= frame.opcode == ws::opcode::close;
                      }
                      self->stats_->pubsub.delivered.fetch_add(
                          pushes, std::memory_order_relaxed);
                      self->sending_.clear();
                      if (sent_close && self->peer_closed_)
                        return self->shut();
                      self->write_next();
                    });
}

void websocket_session::close_with(uint16_t code, std::string reason) {
  if (!open_ || closing_ || shut_)
    return;
  closing_ = true;
  queue_.clear();
  auto frame = std::make_shared<push_message>();
  if (code != 0)
    frame->json = ws::close_payload(code, reason);
  frame->from_history = true;
  queue_.push_back({std::move(frame), ws::opcode::close});
  // A client that does not read never lets the close frame out, and one
  // that does not answer it keeps the socket: tick() drops it after a moment.
  closing_since_ = std::chrono::steady_clock::now();
  write_next();
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
    ping->from_history = true;
    enqueue(std::move(ping), ws::opcode::ping);
  }
}

void websocket_session::shut() {
  if (shut_)
    return;
  shut_ = true;
  queue_.clear();
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

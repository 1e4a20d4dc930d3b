// websocket_session — see websocket_session.hpp. Messages are read
// piecewise (read_some) so an oversized one is refused with the contract's
// 4009 as soon as it passes the limit, instead of Beast's 1009 after
// buffering it.
#include "src/net/websocket_session.hpp"

#include "switchboard/atoms.hpp"

#include "src/live/client_frames.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace switchboard::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

class websocket_sink : public push_sink {
public:
  explicit websocket_sink(std::weak_ptr<websocket_session> session)
      : session_(std::move(session)) {}

  void push(push_ptr message) override {
    if (auto s = session_.lock())
      asio::post(s->ws_.get_executor(),
                 [s, message = std::move(message)]() mutable {
                   s->enqueue(std::move(message));
                 });
  }

  void reply(std::string message) override {
    auto frame = std::make_shared<push_message>();
    frame->json = std::move(message);
    push(std::move(frame));
  }

  void close(uint16_t code, std::string reason) override {
    if (auto s = session_.lock())
      asio::post(s->ws_.get_executor(),
                 [s, code, reason = std::move(reason)]() mutable {
                   s->close_with(code, std::move(reason));
                 });
  }

private:
  std::weak_ptr<websocket_session> session_;
};

websocket_session::websocket_session(beast::tcp_stream&& stream,
                                     caf::actor connection,
                                     websocket_limits limits,
                                     std::shared_ptr<node_stats> stats)
    : ws_(std::move(stream)),
      connection_(std::move(connection)),
      limits_(limits),
      stats_(std::move(stats)),
      close_deadline_(ws_.get_executor()) {
  stats_->connections.ws.fetch_add(1, std::memory_order_relaxed);
}

websocket_session::~websocket_session() {
  stats_->connections.ws.fetch_sub(1, std::memory_order_relaxed);
  if (connection_)
    caf::anon_send(connection_, conn_closed_atom::value);
}

void websocket_session::start(
    beast::http::request<beast::http::string_body> upgrade, std::string token) {
  beast::get_lowest_layer(ws_).expires_never();
  auto timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = std::chrono::seconds{40}; // ping after 20 s idle
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::server, "switchboard");
      }));
  ws_.read_message_max(0); // we enforce the limit ourselves (4009)
  ws_.async_accept(
      upgrade, [self = shared_from_this(), token = std::move(token)](
                   boost::system::error_code ec) mutable {
        if (ec)
          return; // the destructor tells the actor
        self->open_ = true;
        caf::anon_send(self->connection_, ws_open_atom::value, std::move(token),
                       push_sink_ptr{std::make_shared<websocket_sink>(
                           self->weak_from_this())});
        self->read();
      });
}

void websocket_session::drain() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close_with(close_code::going_away, "server going away");
  });
}

void websocket_session::read() {
  ws_.async_read_some(buffer_, 16 * 1024,
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t bytes) {
                        self->on_read(ec, bytes);
                      });
}

void websocket_session::on_read(boost::system::error_code ec, std::size_t) {
  if (ec)
    return; // closed, reset, or timed out: the destructor tells the actor
  if (closing_)
    return;
  if (ws_.got_binary()) {
    close_with(close_code::unsupported_data, "text frames only");
    return;
  }
  if (buffer_.size() > limits_.max_frame_bytes) {
    close_with(close_code::frame_too_large, "frame too large");
    return;
  }
  if (!ws_.is_message_done()) {
    read();
    return;
  }
  auto data = buffer_.data();
  auto frame = live::parse_client_frame(
      std::string_view{static_cast<const char*>(data.data()), data.size()});
  buffer_.consume(buffer_.size());
  caf::anon_send(connection_, std::move(frame));
  read();
}

void websocket_session::enqueue(push_ptr frame) {
  if (closing_ || !open_)
    return;
  if (!frame->from_history && queue_.size() >= limits_.max_queue) {
    stats_->pubsub.dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
    close_with(close_code::too_slow, "consumer too slow");
    return;
  }
  queue_.push_back(std::move(frame));
  if (!writing_)
    write_next();
}

void websocket_session::write_next() {
  if (pending_close_) {
    auto [code, reason] = *pending_close_;
    pending_close_.reset();
    writing_ = true;
    websocket::close_reason why{reason};
    why.code = static_cast<websocket::close_code>(code);
    ws_.async_close(why,
                    [self = shared_from_this()](boost::system::error_code) {
                      self->writing_ = false;
                      self->close_deadline_.cancel();
                    });
    return;
  }
  if (queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto frame = queue_.front();
  queue_.pop_front();
  ws_.text(true);
  ws_.async_write(asio::buffer(frame->json), [self = shared_from_this(), frame](
                                                 boost::system::error_code ec,
                                                 std::size_t) {
    if (ec) {
      self->writing_ = false;
      self->queue_.clear();
      return;
    }
    self->stats_->pubsub.delivered.fetch_add(1, std::memory_order_relaxed);
    self->write_next();
  });
}

void websocket_session::close_with(uint16_t code, std::string reason) {
  if (closing_ || !open_)
    return;
  closing_ = true;
  queue_.clear();
  pending_close_.emplace(code, std::move(reason));
  // The close frame waits for the write in flight; a client that does not
  // read never lets it finish, so give it a moment, then drop the socket.
  close_deadline_.expires_after(std::chrono::seconds{2});
  close_deadline_.async_wait(
      [weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self)
          return;
        boost::system::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
  if (!writing_)
    write_next();
}

} // namespace switchboard::net

// sse_session — see sse_session.hpp. The header is written with Beast; the
// body is a stream of events with no length, ended by closing the
// connection (so the response says Connection: close).
#include "src/net/sse_session.hpp"

#include "switchboard/atoms.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <caf/send.hpp>

#include <array>
#include <functional>

namespace switchboard::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class sse_sink : public push_sink {
public:
  explicit sse_sink(std::weak_ptr<sse_session> session)
      : session_(std::move(session)) {}

  void push(push_ptr message) override {
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(), [s, message] {
        // The resume id is per stream: it names every channel's offset.
        s->offsets_[message->channel] = message->offset;
        std::string event = "id: " + live::encode_resume(s->offsets_) +
                            "\nevent: " + message->event +
                            "\ndata: " + message->json + "\n\n";
        s->enqueue(std::make_shared<const std::string>(std::move(event)),
                   message->from_history);
      });
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
        if (!channel || !offset || !channel->is_string() ||
            !offset->is_string())
          return;
        auto name = std::string{channel->as_string()};
        if (!s->offsets_.count(name))
          s->offsets_[name] = std::stoll(std::string{offset->as_string()});
      });
  }

  void close(uint16_t, std::string) override {
    if (auto s = session_.lock())
      asio::post(s->stream_.get_executor(), [s] { s->end(); });
  }

private:
  std::weak_ptr<sse_session> session_;
};

sse_session::sse_session(beast::tcp_stream&& stream, caf::actor connection,
                         std::size_t max_queue,
                         std::shared_ptr<node_stats> stats,
                         live::resume_offsets initial)
    : stream_(std::move(stream)),
      connection_(std::move(connection)),
      max_queue_(max_queue),
      stats_(std::move(stats)),
      offsets_(std::move(initial)),
      heartbeat_timer_(stream_.get_executor()) {
  stats_->connections.sse.fetch_add(1, std::memory_order_relaxed);
}

sse_session::~sse_session() {
  stats_->connections.sse.fetch_sub(1, std::memory_order_relaxed);
  if (connection_)
    caf::anon_send(connection_, conn_closed_atom::value);
}

void sse_session::start(
    std::vector<std::pair<std::string, std::string>> extra) {
  stream_.expires_never();
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
        caf::anon_send(
            self->connection_, sse_open_atom::value,
            push_sink_ptr{std::make_shared<sse_sink>(self->weak_from_this())});
        // A comment first: some clients report "open" only on the first byte.
        self->enqueue(std::make_shared<const std::string>(": open\n\n"));
        self->heartbeat();
        // The pending read keeps the session alive; it completes (with an
        // error) only when the client goes away: it never sends anything.
        self->watch_client();
      });
}

void sse_session::watch_client() {
  stream_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (ec) {
          self->end();
          return;
        }
        self->watch_client(); // a client should not send; ignore it
      });
}

void sse_session::heartbeat() {
  heartbeat_timer_.expires_after(std::chrono::seconds{15});
  heartbeat_timer_.async_wait(
      [weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->ended_)
          return;
        self->enqueue(std::make_shared<const std::string>(": heartbeat\n\n"));
        self->heartbeat();
      });
}

void sse_session::enqueue(std::shared_ptr<const std::string> bytes,
                          bool from_history) {
  if (ended_)
    return;
  if (!from_history && queue_.size() >= max_queue_) {
    stats_->pubsub.dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
    end(); // too slow: the client resumes with Last-Event-ID
    return;
  }
  queue_.push_back(std::move(bytes));
  if (!writing_)
    write_next();
}

void sse_session::write_next() {
  if (queue_.empty() || ended_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto bytes = queue_.front();
  queue_.pop_front();
  asio::async_write(stream_, asio::buffer(*bytes),
                    [self = shared_from_this(),
                     bytes](boost::system::error_code ec, std::size_t) {
                      if (ec) {
                        self->end();
                        return;
                      }
                      self->stats_->pubsub.delivered.fetch_add(
                          1, std::memory_order_relaxed);
                      self->write_next();
                    });
}

void sse_session::end() {
  if (ended_)
    return;
  ended_ = true;
  queue_.clear();
  heartbeat_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

} // namespace switchboard::net

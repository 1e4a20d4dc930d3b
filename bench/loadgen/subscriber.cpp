// bench/loadgen/subscriber.cpp — see subscriber.hpp. Each target's way to
// subscribe is one small branch here, so a new server is one more branch:
//   switchboard  WS /ws + {"op":"subscribe"} frame, waits for "ok":true;
//                SSE /sse?channels=<c> (up when the 200 head arrives)
//   seed         WS /ws?channel=<c>; SSE /sse?channel=<c>
//   socketio     WS /socket.io/?EIO=4&transport=websocket&channel=<c>,
//                Engine.IO open "0{..}", "40" connect, pings "2" -> "3"
//   nchan        WS or EventSource on /sub/<c>
#include "subscriber.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <deque>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

void open_from_source(tcp::socket& socket, int source, error_code& error) {
  socket.open(tcp::v4(), error);
  if (error)
    return;
  int one = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
               &one, sizeof one);
  auto address =
      asio::ip::address_v4(0x7f000000u + static_cast<unsigned>(source));
  socket.bind(tcp::endpoint(address, 0), error);
}

namespace {

std::string url_path(const options& opts, int channel) {
  std::string name = opts.channel_name(channel);
  bool sse = opts.transport == transport::sse;
  switch (opts.target) {
  case target::switchboard:
    return sse ? "/sse?channels=" + name : "/ws";
  case target::seed:
    return (sse ? "/sse?channel=" : "/ws?channel=") + name;
  case target::socketio:
    return "/socket.io/?EIO=4&transport=websocket&channel=" + name;
  case target::nchan:
    return "/sub/" + name;
  }
  return "/";
}

// Callbacks from a subscriber to its connector.
struct subscriber_events {
  std::function<void(bool)> handshake_done; // true: subscribed
};

class ws_subscriber : public std::enable_shared_from_this<ws_subscriber> {
public:
  ws_subscriber(asio::io_context& io, const options& opts, run_state& state,
                int index, subscriber_events events)
      : opts_(opts),
        state_(state),
        index_(index),
        channel_(index % opts.channels),
        events_(std::move(events)),
        ws_(io) {}

  void start() {
    error_code error;
    open_from_source(ws_.next_layer(), 1 + index_ % opts_.sources, error);
    if (error)
      return fail("open", error);
    tcp::endpoint server(asio::ip::make_address(opts_.host), opts_.port);
    ws_.next_layer().async_connect(
        server, [self = shared_from_this()](error_code error) {
          if (error)
            return self->fail("connect", error);
          self->handshake();
        });
  }

  void close() {
    if (!closed_) {
      closed_ = true;
      error_code ignored;
      ws_.next_layer().close(ignored);
    }
  }

private:
  void handshake() {
    ws_.read_message_max(1u << 20);
    ws_.auto_fragment(false);
    ws_.async_handshake(
        opts_.host + ":" + std::to_string(opts_.port),
        url_path(opts_, channel_),
        [self = shared_from_this()](error_code error) {
          if (error)
            return self->fail("handshake", error);
          self->ws_.text(true);
          if (self->opts_.target == target::switchboard) {
            self->send("{\"id\":1,\"op\":\"subscribe\",\"channel\":\"" +
                       self->opts_.channel_name(self->channel_) + "\"}");
          } else if (self->opts_.target != target::socketio) {
            self->subscribed();
          }
          self->read();
        });
  }

  void subscribed() {
    if (up_)
      return;
    up_ = true;
    ++state_.connections_up;
    ++state_.subscribers_per_channel[channel_];
    events_.handshake_done(true);
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code error,
                                                        size_t) {
      if (error)
        return self->fail("read", error);
      auto data = self->buffer_.cdata();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      self->on_message(text);
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void on_message(std::string_view text) {
    if (up_) {
      if (opts_.target == target::socketio && text == "2")
        return send("3");
      state_.delivered(text);
      return;
    }
    switch (opts_.target) {
    case target::switchboard:
      if (text.find("\"ok\":true") != std::string_view::npos)
        return subscribed();
      std::fprintf(stderr, "subscribe refused: %.*s\n",
                   static_cast<int>(text.size()), text.data());
      return fail("subscribe", {});
    case target::socketio:
      if (text.rfind("0{", 0) == 0)
        return send("40");
      if (text.rfind("40", 0) == 0)
        return subscribed();
      if (text == "2")
        return send("3");
      return;
    default:
      state_.delivered(text);
    }
  }

  void send(std::string frame) {
    outbox_.push_back(std::move(frame));
    if (outbox_.size() == 1)
      write_next();
  }

  void write_next() {
    ws_.async_write(asio::buffer(outbox_.front()),
                    [self = shared_from_this()](error_code error, size_t) {
                      if (error)
                        return self->fail("write", error);
                      self->outbox_.pop_front();
                      if (!self->outbox_.empty())
                        self->write_next();
                    });
  }

  void fail(const char* where, error_code error) {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    ws_.next_layer().close(ignored);
    if (up_) {
      --state_.connections_up;
      --state_.subscribers_per_channel[channel_];
      ++state_.connections_lost;
      static int reported = 0;
      if (reported++ < 5)
        std::fprintf(stderr, "connection %d lost at %s: %s\n", index_, where,
                     error.message().c_str());
    } else {
      static int reported = 0;
      if (reported++ < 5)
        std::fprintf(stderr, "connection %d failed at %s: %s\n", index_, where,
                     error.message().c_str());
      events_.handshake_done(false);
    }
  }

  const options& opts_;
  run_state& state_;
  int index_, channel_;
  subscriber_events events_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool up_ = false, closed_ = false;
};

// An EventSource client: reads the head, then splits the body (chunked or
// not) into events at blank lines.
class sse_subscriber : public std::enable_shared_from_this<sse_subscriber> {
public:
  sse_subscriber(asio::io_context& io, const options& opts, run_state& state,
                 int index, subscriber_events events)
      : opts_(opts),
        state_(state),
        index_(index),
        channel_(index % opts.channels),
        events_(std::move(events)),
        socket_(io) {}

  void start() {
    error_code error;
    open_from_source(socket_, 1 + index_ % opts_.sources, error);
    if (error)
      return fail("open", error);
    tcp::endpoint server(asio::ip::make_address(opts_.host), opts_.port);
    socket_.async_connect(server,
                          [self = shared_from_this()](error_code error) {
                            if (error)
                              return self->fail("connect", error);
                            self->send_request();
                          });
  }

  void close() {
    if (!closed_) {
      closed_ = true;
      error_code ignored;
      socket_.close(ignored);
    }
  }

private:
  void send_request() {
    request_ = "GET " + url_path(opts_, channel_) +
               " HTTP/1.1\r\nHost: " + opts_.host +
               "\r\nAccept: text/event-stream\r\n\r\n";
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](error_code error, size_t) {
                        if (error)
                          return self->fail("write", error);
                        self->read_head();
                      });
  }

  void read_head() {
    asio::async_read_until(
        socket_, asio::dynamic_buffer(raw_), "\r\n\r\n",
        [self = shared_from_this()](error_code error, size_t head_size) {
          if (error)
            return self->fail("head", error);
          std::string head = self->raw_.substr(0, head_size);
          self->raw_.erase(0, head_size);
          if (head.compare(0, 12, "HTTP/1.1 200") != 0 &&
              head.compare(0, 12, "HTTP/1.0 200") != 0) {
            std::fprintf(stderr, "sse refused: %s\n",
                         head.substr(0, head.find('\r')).c_str());
            return self->fail("status", {});
          }
          for (auto& c : head)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          self->chunked_ =
              head.find("transfer-encoding: chunked") != std::string::npos;
          self->up_ = true;
          ++self->state_.connections_up;
          ++self->state_.subscribers_per_channel[self->channel_];
          self->events_.handshake_done(true);
          self->consume();
          self->read();
        });
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](error_code error, size_t size) {
          if (error)
            return self->fail("read", error);
          self->raw_.append(self->chunk_, size);
          self->consume();
          self->read();
        });
  }

  // Moves body bytes from raw_ (dechunked when needed) into events_text_ and
  // hands every complete event to run_state.
  void consume() {
    if (!chunked_) {
      events_text_.append(raw_);
      raw_.clear();
    } else {
      for (;;) {
        if (chunk_left_ == 0) {
          auto eol = raw_.find("\r\n");
          if (eol == std::string::npos)
            break;
          if (eol == 0) { // the CRLF closing the previous chunk
            raw_.erase(0, 2);
            continue;
          }
          chunk_left_ = std::strtoull(raw_.c_str(), nullptr, 16);
          raw_.erase(0, eol + 2);
          if (chunk_left_ == 0)
            return fail("end of stream", {});
        }
        size_t take = std::min<size_t>(chunk_left_, raw_.size());
        if (take == 0)
          break;
        events_text_.append(raw_, 0, take);
        raw_.erase(0, take);
        chunk_left_ -= take;
      }
    }
    size_t start = 0;
    for (;;) {
      auto end = events_text_.find("\n\n", start);
      if (end == std::string::npos)
        break;
      std::string_view event(events_text_.data() + start, end - start);
      if (event.find("data:") != std::string_view::npos)
        state_.delivered(event);
      start = end + 2;
    }
    events_text_.erase(0, start);
  }

  void fail(const char* where, error_code error) {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    socket_.close(ignored);
    static int reported = 0;
    if (reported++ < 5)
      std::fprintf(stderr, "sse connection %d %s at %s: %s\n", index_,
                   up_ ? "lost" : "failed", where, error.message().c_str());
    if (up_) {
      --state_.connections_up;
      --state_.subscribers_per_channel[channel_];
      ++state_.connections_lost;
    } else {
      events_.handshake_done(false);
    }
  }

  const options& opts_;
  run_state& state_;
  int index_, channel_;
  subscriber_events events_;
  tcp::socket socket_;
  std::string request_, raw_, events_text_;
  char chunk_[4096];
  size_t chunk_left_ = 0;
  bool chunked_ = false, up_ = false, closed_ = false;
};

} // namespace

connector::connector(asio::io_context& io, const options& opts,
                     run_state& state)
    : io_(io), opts_(opts), state_(state) {
  state_.channels = opts.channels;
  state_.subscribers_per_channel.assign(static_cast<size_t>(opts.channels), 0);
}

void connector::start(std::function<void()> done) {
  done_ = std::move(done);
  if (opts_.conns == 0)
    return done_();
  launch_next();
}

void connector::launch_next() {
  while (in_flight_ < opts_.connect_parallel && next_ < opts_.conns) {
    int index = next_++;
    ++in_flight_;
    subscriber_events events{[this](bool ok) {
      finished(ok);
    }};
    if (opts_.transport == transport::ws) {
      auto sub = std::make_shared<ws_subscriber>(io_, opts_, state_, index,
                                                 std::move(events));
      connections_.push_back(sub);
      closers_.push_back([sub] { sub->close(); });
      sub->start();
    } else {
      auto sub = std::make_shared<sse_subscriber>(io_, opts_, state_, index,
                                                  std::move(events));
      connections_.push_back(sub);
      closers_.push_back([sub] { sub->close(); });
      sub->start();
    }
  }
}

void connector::finished(bool ok) {
  --in_flight_;
  (ok ? up_ : failed_)++;
  int total = up_ + failed_;
  if (total % 1000 == 0)
    std::fprintf(stderr, "  connected %d/%d (%d failed)\n", up_, opts_.conns,
                 failed_);
  if (total == opts_.conns) {
    if (done_)
      done_();
    return;
  }
  launch_next();
}

void connector::close_all() {
  for (auto& close : closers_)
    close();
}

} // namespace loadgen

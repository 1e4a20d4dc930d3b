// bench/loadgen/publisher.cpp — see publisher.hpp.
#include "publisher.hpp"

#include "subscriber.hpp" // open_from_source

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>

namespace loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class publisher::connection
    : public std::enable_shared_from_this<publisher::connection> {
public:
  connection(asio::io_context& io, publisher& owner, int index)
      : owner_(owner), index_(index), socket_(io) {}

  void connect(std::function<void(bool)> done) {
    error_code error;
    // Publishers come from the last source addresses, apart from subscribers.
    open_from_source(socket_, 250 - index_ % 50, error);
    if (error) {
      std::fprintf(stderr, "publisher open: %s\n", error.message().c_str());
      return done(false);
    }
    tcp::endpoint server(asio::ip::make_address(owner_.opts_.host),
                         owner_.opts_.port);
    socket_.async_connect(server,
                          [self = shared_from_this(), done](error_code error) {
                            if (error)
                              std::fprintf(stderr, "publisher connect: %s\n",
                                           error.message().c_str());
                            socket_no_delay(self->socket_);
                            done(!error);
                          });
  }

  bool busy() const { return busy_; }

  void send(const due_message& message) {
    busy_ = true;
    message_ = message;
    request_ = {};
    request_.method(http::verb::post);
    request_.target(owner_.target_for(message));
    request_.version(11);
    request_.set(http::field::host, owner_.opts_.host);
    request_.set(http::field::content_type, "application/json");
    if (!owner_.opts_.api_key.empty())
      request_.set("X-Api-Key", owner_.opts_.api_key);
    request_.body() = owner_.body_for(message);
    request_.prepare_payload();
    http::async_write(socket_, request_,
                      [self = shared_from_this()](error_code error, size_t) {
                        if (error)
                          return self->broken("write", error);
                        self->read();
                      });
  }

private:
  static void socket_no_delay(tcp::socket& socket) {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
  }

  void read() {
    response_ = {};
    http::async_read(socket_, buffer_, response_,
                     [self = shared_from_this()](error_code error, size_t) {
                       if (error)
                         return self->broken("read", error);
                       self->busy_ = false;
                       self->retried_ = false;
                       unsigned status = self->response_.result_int();
                       bool ok = status >= 200 && status < 300;
                       if (!ok) {
                         static int reported = 0;
                         if (reported++ < 5)
                           std::fprintf(stderr, "publish got %u: %s\n", status,
                                        self->response_.body().c_str());
                       }
                       self->owner_.finished(ok, status);
                     });
  }

  void broken(const char* where, error_code error) {
    if (!retried_) {
      // A keep-alive connection the server closed while it was idle (Node
      // closes them after 5 s): like any HTTP client, reconnect and send
      // the request again, once.
      retried_ = true;
      error_code ignored;
      socket_.close(ignored);
      socket_ = tcp::socket(socket_.get_executor());
      buffer_.consume(buffer_.size());
      return connect([self = shared_from_this()](bool ok) {
        if (ok)
          return self->send(self->message_);
        self->owner_.finished(false, 0);
      });
    }
    static int reported = 0;
    if (reported++ < 5)
      std::fprintf(stderr, "publisher %d broken at %s: %s\n", index_, where,
                   error.message().c_str());
    // The message counts as an error; the connection stays busy (dead), so
    // the step fails visibly rather than slowly.
    owner_.finished(false, 0);
    busy_ = true;
  }

  publisher& owner_;
  int index_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  due_message message_{};
  bool busy_ = false;
  bool retried_ = false; // the request in flight was sent a second time
};

publisher::publisher(asio::io_context& io, const options& opts,
                     run_state& state)
    : io_(io), opts_(opts), state_(state), timer_(io) {
  int pad = opts.payload - 48;
  pad_.assign(static_cast<size_t>(pad > 0 ? pad : 0), 'x');
}

publisher::~publisher() = default;

void publisher::connect(std::function<void(bool)> done) {
  auto pending = std::make_shared<int>(opts_.publishers);
  auto all_ok = std::make_shared<bool>(true);
  for (int i = 0; i < opts_.publishers; ++i) {
    auto conn = std::make_shared<connection>(io_, *this, i);
    connections_.push_back(conn);
    conn->connect([pending, all_ok, done](bool ok) {
      *all_ok = *all_ok && ok;
      if (--*pending == 0)
        done(*all_ok);
    });
  }
}

void publisher::start(double rate) {
  rate_ = rate;
  running_ = rate > 0;
  step_start_us_ = state_.now_us();
  step_scheduled_ = 0;
  if (running_)
    tick();
}

void publisher::stop() {
  running_ = false;
  timer_.cancel();
}

bool publisher::idle() const {
  return queue_.empty() && in_flight_ == 0;
}

void publisher::tick() {
  if (!running_)
    return;
  int64_t now = state_.now_us();
  auto due = static_cast<uint64_t>(static_cast<double>(now - step_start_us_) *
                                   rate_ / 1e6) +
             1;
  while (step_scheduled_ < due) {
    due_message message;
    message.seq = next_seq_++;
    message.channel =
        static_cast<int>(message.seq % static_cast<uint64_t>(opts_.channels));
    message.scheduled_us =
        step_start_us_ +
        static_cast<int64_t>(static_cast<double>(step_scheduled_) * 1e6 /
                             rate_);
    ++step_scheduled_;
    state_.scheduled(message.seq, message.channel);
    if (queue_.size() >= max_queued) {
      ++errors;
      ++error_statuses[1];
      continue;
    }
    queue_.push_back(message);
  }
  dispatch();
  // Wake when the next message is due (at most every 200 µs at high rates).
  int64_t next_due =
      step_start_us_ +
      static_cast<int64_t>(static_cast<double>(step_scheduled_) * 1e6 / rate_);
  int64_t wait = std::max<int64_t>(next_due - state_.now_us(), 200);
  timer_.expires_after(std::chrono::microseconds(wait));
  timer_.async_wait([this](error_code error) {
    if (!error)
      tick();
  });
}

void publisher::dispatch() {
  // Round robin, so every keep-alive connection stays in use.
  for (std::size_t n = 0; n < connections_.size(); ++n) {
    if (queue_.empty())
      return;
    auto& conn = connections_[next_connection_++ % connections_.size()];
    if (conn->busy())
      continue;
    due_message message = queue_.front();
    queue_.pop_front();
    ++in_flight_;
    conn->send(message);
  }
}

void publisher::finished(bool ok, unsigned status) {
  --in_flight_;
  if (ok) {
    ++published;
  } else {
    ++errors;
    ++error_statuses[status];
  }
  dispatch();
}

std::string publisher::body_for(const due_message& message) const {
  std::string data = "{\"seq\":" + std::to_string(message.seq) +
                     ",\"t\":" + std::to_string(message.scheduled_us) +
                     ",\"pad\":\"" + pad_ + "\"}";
  std::string channel = opts_.channel_name(message.channel);
  switch (opts_.target) {
  case target::switchboard:
    return "{\"channel\":\"" + channel +
           "\",\"event\":\"bench\",\"data\":" + data + "}";
  case target::seed:
  case target::socketio:
    return "{\"channel\":\"" + channel + "\",\"data\":" + data + "}";
  case target::nchan:
    return data;
  }
  return data;
}

std::string publisher::target_for(const due_message& message) const {
  switch (opts_.target) {
  case target::switchboard:
    return "/api/publish";
  case target::seed:
  case target::socketio:
    return "/publish";
  case target::nchan:
    return "/pub/" + opts_.channel_name(message.channel);
  }
  return "/";
}

} // namespace loadgen

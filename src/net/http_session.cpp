// http_session — see http_session.hpp. One write and one read are never in
// flight together: the next request is read only after the response to the
// last one is written (no pipelining), which bounds what a connection can
// make the node hold to one request.
#include "src/net/http_session.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/client_address.hpp"

#include "src/common/credentials.hpp"
#include "src/http/errors.hpp"
#include "src/http/router.hpp"
#include "src/net/sse_session.hpp"
#include "src/net/websocket_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace switchboard::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class session_sink : public http_sink {
public:
  explicit session_sink(std::weak_ptr<http_session> session)
      : session_(std::move(session)) {}

  void send(http_response response) override {
    if (auto session = session_.lock()) {
      auto executor = session->stream_.get_executor();
      asio::post(executor, [session, response = std::move(response)]() mutable {
        session->write(std::move(response));
      });
    }
  }

  void close() override {
    if (auto session = session_.lock()) {
      auto executor = session->stream_.get_executor();
      asio::post(executor, [session] { session->close(); });
    }
  }

private:
  std::weak_ptr<http_session> session_;
};

http_session::http_session(asio::ip::tcp::socket socket, http_limits limits,
                           std::shared_ptr<node_stats> stats,
                           session_services services)
    : stream_(std::move(socket)),
      limits_(limits),
      stats_(std::move(stats)),
      services_(std::move(services)) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_address_ = remote.address().to_string();
  address_key_ = address_key(remote_address_);
  stats_->connections.http.fetch_add(1, std::memory_order_relaxed);
}

http_session::~http_session() {
  stats_->connections.http.fetch_sub(1, std::memory_order_relaxed);
  notify_closed();
}

void http_session::notify_closed() {
  if (connection_) {
    caf::anon_send(connection_, conn_closed_atom::value);
    connection_ = nullptr;
  }
}

void http_session::abandon() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->in_flight_self_.reset();
    self->close();
  });
}

void http_session::start(caf::actor connection) {
  connection_ = std::move(connection);
  read_header();
}

http_sink_ptr http_session::sink() {
  return std::make_shared<session_sink>(weak_from_this());
}

void http_session::drain() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    if (!self->in_flight_)
      self->close();
  });
}

void http_session::read_header() {
  if (closed_)
    return;
  if (draining_) {
    close();
    return;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser_->body_limit(limits_.max_body_bytes);
  // Waiting for a new request may take the idle timeout; once its first
  // bytes are here, the whole head must arrive within the request timeout
  // (a slow sender cannot hold the connection for longer).
  request_started_ = buffer_.size() > 0;
  header_bytes_ = 0;
  stream_.expires_after(request_started_ ? limits_.request_timeout
                                         : limits_.idle_timeout);
  read_header_some();
}

void http_session::read_header_some() {
  // Parse what is buffered first: a pipelined request may be complete.
  if (buffer_.size() > 0) {
    boost::system::error_code ec;
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec && ec != bhttp::error::need_more) {
      on_header(ec);
      return;
    }
    // The parser leaves the limit to the reader: the head, whole or not
    // yet, may not pass max_header_bytes.
    header_bytes_ += used;
    if (header_bytes_ > limits_.max_header_bytes ||
        (!parser_->is_header_done() &&
         buffer_.size() > limits_.max_header_bytes)) {
      on_header(bhttp::error::header_limit);
      return;
    }
    if (parser_->is_header_done()) {
      on_header({});
      return;
    }
  }
  // Raw reads (not Beast's read_header, which reports only a whole head)
  // so the first bytes of a request can switch the deadline.
  stream_.async_read_some(
      buffer_.prepare(4096),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) {
          self->on_header(ec == asio::error::eof ? bhttp::error::end_of_stream
                                                 : ec);
          return;
        }
        self->buffer_.commit(n);
        if (!self->request_started_) {
          self->request_started_ = true;
          self->stream_.expires_after(self->limits_.request_timeout);
        }
        self->read_header_some();
      });
}

void http_session::on_header(boost::system::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    reject(413, "too_large", "request header too large");
    return;
  }
  if (ec == bhttp::error::body_limit) {
    reject(413, "too_large", "request body too large");
    return;
  }
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    close();
    return;
  }
  if (ec) {
    reject(400, "bad_request", "malformed HTTP request");
    return;
  }
  const auto& req = parser_->get();
  // Only "chunked" may frame a request body; any other coding (or chunked
  // twice, or alongside Content-Length) leaves its end ambiguous — the
  // stuff of request smuggling — so it is refused and the connection closed
  // (RFC 9112 6.3).
  if (auto coding = req[bhttp::field::transfer_encoding]; !coding.empty()) {
    auto trimmed = coding;
    while (!trimmed.empty() &&
           (trimmed.front() == ' ' || trimmed.front() == '\t'))
      trimmed.remove_prefix(1);
    while (!trimmed.empty() &&
           (trimmed.back() == ' ' || trimmed.back() == '\t'))
      trimmed.remove_suffix(1);
    if (!beast::iequals(trimmed, "chunked") ||
        req.count(bhttp::field::transfer_encoding) > 1 ||
        req.count(bhttp::field::content_length) > 0) {
      reject(400, "bad_request", "Transfer-Encoding: only chunked is accepted");
      return;
    }
  }
  if (auto length = parser_->content_length();
      length && *length > limits_.max_body_bytes) {
    reject(413, "too_large", "request body too large");
    return;
  }
  if (bhttp::token_list{req[bhttp::field::expect]}.exists("100-continue")) {
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
        bhttp::status::continue_, req.version());
    stream_.expires_after(limits_.request_timeout);
    bhttp::async_write(stream_, *cont,
                       [self = shared_from_this(),
                        cont](boost::system::error_code ec, std::size_t) {
                         if (ec)
                           self->close();
                         else
                           self->read_body();
                       });
    return;
  }
  read_body();
}

void http_session::read_body() {
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  stream_.expires_after(limits_.request_timeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->on_body(ec);
      });
}

void http_session::on_body(boost::system::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    reject(413, "too_large", "request body too large");
    return;
  }
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted ||
      ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    close();
    return;
  }
  if (ec) {
    reject(400, "bad_request", "malformed HTTP request body");
    return;
  }
  dispatch();
}

void http_session::upgrade_to_websocket() {
  auto req = parser_->release();
  // The token may come as a header or, for browsers, a query parameter:
  // read as HTTP and SSE read it (src/common/credentials.hpp).
  std::optional<std::string_view> authorization;
  if (auto i = req.find(bhttp::field::authorization); i != req.end())
    authorization = i->value();
  auto given = credential_of(authorization, req.target());
  auto token = std::move(given.token);
  // A credential that is there but empty is a bad one (4001), not "no
  // credential" (anonymous): the token check refuses any malformed token.
  if (given.given && token.empty())
    token = "-";
  auto ws = std::make_shared<websocket_session>(
      std::move(stream_), std::move(connection_),
      websocket_limits{limits_.ws_max_frame_bytes, limits_.live_max_queue,
                       limits_.live_max_queue_bytes, limits_.live_frame_rate,
                       limits_.live_frame_burst},
      stats_, services_.lane);
  connection_ = nullptr;
  closed_ = true; // the socket now belongs to the websocket session
  ws->hold(std::move(slot_));
  ws->start(std::move(req), std::move(token));
}

bool http_session::admitted() {
  if (!services_.unauthenticated || !services_.unauthenticated->enabled())
    return true;
  const auto& req = parser_->get();
  bool credential = req.count("x-api-key") > 0 || req.count("x-admin-key") > 0;
  if (!credential) {
    std::optional<std::string_view> authorization;
    if (auto i = req.find(bhttp::field::authorization); i != req.end())
      authorization = i->value();
    credential = credential_of(authorization, req.target()).given;
  }
  auto verdict = services_.unauthenticated->admit(address_key_, credential);
  if (verdict.untracked && !logged_untracked_) {
    logged_untracked_ = true; // once per connection: the table is full
    spdlog::warn("http: anon_addresses_max reached; {} goes uncounted",
                 remote_address_);
  }
  if (verdict.wait.count() == 0)
    return true;
  // Answered on the io thread and the connection kept: the refusal costs
  // the flood a round trip, and us no actor, no Redis and no database.
  stats_->connections.unauthenticated_limited.fetch_add(
      1, std::memory_order_relaxed);
  auto seconds = (verdict.wait.count() + 999) / 1000;
  auto refused = http::error_response(
      429, "rate_limited",
      "too many requests without a credential from this address");
  refused.with("Retry-After", std::to_string(seconds));
  keep_alive_ = req.keep_alive();
  head_request_ = req.method() == bhttp::verb::head;
  parser_.reset();
  in_flight_ = true;
  in_flight_self_ = shared_from_this();
  reusable_target_.clear();
  write(std::move(refused));
  return false;
}

void http_session::dispatch() {
  if (!admitted())
    return;
  if (boost::beast::websocket::is_upgrade(parser_->get())) {
    const auto& req = parser_->get();
    auto route =
        http::node_routes().outside_actor(req.method_string(), req.target());
    if (route.layer == http::route_layer::websocket) {
      auto refusal = http::router::refused_query(route, req.target());
      if (!refusal.empty()) {
        reject(400, "bad_request", refusal);
        return;
      }
      // Refuse a malformed handshake ourselves, with the contract's JSON
      // error, before the WebSocket layer would answer in plain text.
      if (req["Sec-WebSocket-Key"].size() != 24) {
        reject(400, "bad_request",
               "Sec-WebSocket-Key: must be 16 bytes in base64");
        return;
      }
      if (req["Sec-WebSocket-Version"] != "13") {
        stats_->connections.rejected.fetch_add(1, std::memory_order_relaxed);
        keep_alive_ = false;
        auto refused = http::error_response(
            426, "upgrade_required", "Sec-WebSocket-Version: 13 is required");
        refused.with("Sec-WebSocket-Version", "13");
        refused.close = true;
        write(std::move(refused));
        return;
      }
      upgrade_to_websocket();
      return;
    }
  }
  auto req = parser_->release();
  keep_alive_ = req.keep_alive();
  http_request request;
  request.method = std::string{req.method_string()};
  request.target = std::string{req.target()};
  request.headers.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    request.headers.emplace_back(std::move(name), std::string{field.value()});
  }
  request.body = std::move(req.body());
  request.remote_address = remote_address_;
  head_request_ = req.method() == bhttp::verb::head;
  in_flight_ = true;
  in_flight_self_ = shared_from_this();
  stream_.expires_never(); // the actor answers under its own deadlines
  stats_->connections.requests.fetch_add(1, std::memory_order_relaxed);
  reusable_target_.clear();
  if (services_.hot && hot_responses::eligible(request)) {
    if (auto response = services_.hot->answer(request)) {
      write(std::move(*response));
      return;
    }
    reusable_target_ = request.target;
  }
  if (services_.routes && services_.routes->take(request, sink()))
    return;
  caf::anon_send(connection_, std::move(request));
}

void http_session::write(http_response response) {
  auto keep = std::move(in_flight_self_);
  if (closed_)
    return;
  if (!reusable_target_.empty()) {
    services_.hot->keep(reusable_target_, response);
    reusable_target_.clear();
  }
  if (response.status == 401 && services_.unauthenticated)
    services_.unauthenticated->refused_credential(address_key_);
  if (response.event_stream) {
    // The connection becomes a Server-Sent Events stream.
    auto initial =
        live::decode_seed(response.resume_id).value_or(live::resume_offsets{});
    auto sse = std::make_shared<sse_session>(
        std::move(stream_), std::move(connection_), limits_.live_max_queue,
        limits_.live_max_queue_bytes, stats_, std::move(initial),
        services_.lane);
    connection_ = nullptr;
    closed_ = true;
    sse->hold(std::move(slot_));
    sse->start(std::move(response.headers));
    return;
  }
  in_flight_ = false;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(11);
  res->result(response.status);
  res->set(bhttp::field::server, "switchboard");
  if (!response.content_type.empty() && response.status != 304)
    res->set(bhttp::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers)
    res->set(name, value);
  bool close_after = response.close || !keep_alive_ || draining_;
  res->keep_alive(!close_after);
  res->body() = std::move(response.body);
  res->prepare_payload();
  if (head_request_) { // the GET's headers, Content-Length included; no body
    res->body().clear();
    head_request_ = false;
  }
  stream_.expires_after(limits_.request_timeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res,
                      close_after](boost::system::error_code ec, std::size_t) {
                       if (ec) {
                         self->close();
                       } else if (close_after) {
                         self->linger_then_close();
                       } else {
                         self->read_header();
                       }
                     });
}

void http_session::reject(unsigned status, std::string_view code,
                          std::string_view text) {
  stats_->connections.rejected.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("http: {} from {}: {}", status, remote_address_, text);
  keep_alive_ = false;
  auto response = http::error_response(status, code, text);
  response.close = true;
  write(std::move(response));
}

void http_session::linger_then_close() {
  // Half-close, then drain what the client is still sending for a moment:
  // closing with unread data makes the kernel send a reset, which can
  // destroy our response before the client reads it (cf. nginx's
  // lingering_close).
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds{2});
  auto sink = std::make_shared<std::array<char, 4096>>();
  auto drained = std::make_shared<std::size_t>(0);
  auto step = std::make_shared<std::function<void()>>();
  *step = [self = shared_from_this(), sink, drained, step]() {
    self->stream_.async_read_some(
        asio::buffer(*sink), [self, sink, drained, step](
                                 boost::system::error_code ec, std::size_t n) {
          *drained += n;
          if (ec || *drained > 1024 * 1024) {
            *step = nullptr; // break the cycle
            self->close();
            return;
          }
          (*step)();
        });
  };
  (*step)();
}

void http_session::close() {
  if (closed_)
    return;
  closed_ = true;
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  notify_closed();
}

} // namespace switchboard::net

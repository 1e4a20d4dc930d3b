// http_session — one accepted TCP connection speaking HTTP/1.1, confined to
// its strand on the io thread. It reads one request at a time (header first,
// then body, each under its limits and deadline), hands it whole to its
// connection actor, and writes the response that comes back through its
// http_sink. It enforces the protocol (limits, timeouts, malformed input)
// itself and never makes an application decision.
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_stats.hpp"

#include "src/net/session_services.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <caf/actor.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace switchboard::net {

struct websocket_limits;

struct http_limits {
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t ws_max_frame_bytes = 64 * 1024;
  std::size_t live_max_queue = 1024;
  std::size_t live_max_queue_bytes = 1024 * 1024;
  uint32_t live_frame_rate = 50;
  uint32_t live_frame_burst = 100;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(boost::asio::ip::tcp::socket socket, http_limits limits,
               std::shared_ptr<node_stats> stats, session_services services);
  ~http_session();

  /// Keeps the connection's place (connection_slots) while the socket lives.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

  /// Binds the connection actor and starts reading. Io thread only.
  void start(caf::actor connection);

  /// The sink a connection actor answers through.
  http_sink_ptr sink();

  /// Closes once the request in flight (if any) is answered. Thread-safe.
  void drain();

  const std::string& remote_address() const { return remote_address_; }

  /// Closes at once (on its loop), dropping any request in flight. Only for
  /// the node's final shutdown, after the drain.
  void abandon();

private:
  friend class session_sink;

  void read_header();
  void read_header_some(); // until the head is parsed
  void on_header(boost::system::error_code ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  /// False (and answered 429) when the request's address is past its
  /// allowance of unauthenticated requests (session_services).
  bool admitted();
  void dispatch();
  void upgrade_to_websocket();
  void write(http_response response);
  void reject(unsigned status, std::string_view code, std::string_view text);
  void linger_then_close();
  void close();
  void notify_closed();

  using header_parser =
      boost::beast::http::request_parser<boost::beast::http::string_body>;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<header_parser> parser_;
  http_limits limits_;
  std::shared_ptr<node_stats> stats_;
  session_services services_;
  std::string reusable_target_; // the request in flight may be kept (hot)
  caf::actor connection_;
  // While a request is with the actor nothing else references the session:
  // it holds itself until the response is written (the router's responder
  // guarantees one, even if a handler fails).
  std::shared_ptr<http_session> in_flight_self_;
  std::string remote_address_;
  std::string address_key_; // what per-address limits count (IPv6: its /64)
  bool keep_alive_ = true;
  bool in_flight_ = false; // a request is with the actor
  bool draining_ = false;
  bool logged_untracked_ = false;
  bool closed_ = false;
  std::size_t header_bytes_ = 0; // of the request head being parsed
  bool request_started_ = false; // bytes of the next request arrived
  bool head_request_ = false;    // answer with the headers only
  std::shared_ptr<void> slot_;   // released when the socket closes
};

} // namespace switchboard::net

// websocket_session — one upgraded connection speaking the contract's
// WebSocket protocol, confined to its strand on the io thread. It reads
// frames (text only, within ws_max_frame_bytes, decoded into client_frames
// here so actors get typed requests), keeps the connection alive with
// pings, and writes what actors queue through its push_sink — one write in
// flight, a bounded queue behind it. It makes no application decision.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/node_stats.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <caf/actor.hpp>

#include <deque>
#include <memory>
#include <string>

namespace switchboard::net {

struct websocket_limits {
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_queue = 1024; // queued outbound frames before 4008
};

class websocket_session
    : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(boost::beast::tcp_stream&& stream, caf::actor connection,
                    websocket_limits limits, std::shared_ptr<node_stats> stats);
  ~websocket_session();

  /// Keeps the connection's place (connection_slots) while the socket lives.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

  /// Completes the handshake for `upgrade`, then tells the connection actor
  /// `(ws_open_atom, token, push_sink_ptr)` and starts reading.
  void
  start(boost::beast::http::request<boost::beast::http::string_body> upgrade,
        std::string token);

  /// Closes with 1001 (the node is draining). Thread-safe.
  void drain();

private:
  friend class websocket_sink;

  void read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void enqueue(push_ptr frame);
  void write_next();
  void close_with(uint16_t code, std::string reason);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  caf::actor connection_;
  websocket_limits limits_;
  std::shared_ptr<node_stats> stats_;
  std::deque<push_ptr> queue_;
  bool writing_ = false;
  bool closing_ = false;
  bool open_ = false;
  std::optional<std::pair<uint16_t, std::string>> pending_close_;
  // A client that stopped reading cannot take even the close frame: after
  // this long the socket is dropped.
  boost::asio::steady_timer close_deadline_;
  std::shared_ptr<void> slot_; // released when the socket closes
};

} // namespace switchboard::net

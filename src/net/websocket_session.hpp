// websocket_session — one upgraded connection speaking the contract's
// WebSocket protocol, confined to its strand on the io thread. Beast does
// the handshake; after it the session frames the bytes itself
// (websocket_frames): it reads client frames (text only, within
// ws_max_frame_bytes, decoded into client_frames here so actors get typed
// requests), answers pings, pings an idle client, and writes everything
// actors queue through its push_sink — every frame queued since the last
// write goes out in one send, so a busy connection costs one system call
// per batch instead of one per push. It makes no application decision.
// Hostile clients are the normal case: every client frame (control frames,
// fragments, empty continuations) is charged to the frame budget before
// anything is parsed (4029 past it); one read pass takes a bounded number
// of bytes and frames, then yields to the other connections; everything
// queued outbound (pushes, replies, pongs, history) counts against one
// bound in frames and bytes (4008 past it).
// Must never: hold a read buffer while idle (idle connections are the
// node's memory budget), let a write overtake another one, or queue
// anything outside the outbound bound but the one close frame.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/node_stats.hpp"

#include "src/live/token_bucket.hpp"
#include "src/net/delivery_lane.hpp"
#include "src/net/websocket_frames.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <caf/actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::net {

struct websocket_limits {
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_queue = 1024;              // outbound frames before 4008
  std::size_t max_queue_bytes = 1024 * 1024; // outbound bytes before 4008
  uint32_t frame_rate = 50;                  // client frames per second
  uint32_t frame_burst = 100;                // ... at once after a pause
};

class websocket_session
    : public flushable,
      public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(boost::beast::tcp_stream&& stream, caf::actor connection,
                    websocket_limits limits, std::shared_ptr<node_stats> stats,
                    std::shared_ptr<io_delivery_lane> lane);
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

  /// The lane's flush: writes what was queued through push_on_lane.
  void flush() override { write_next(); }
  /// Once a second: pings a silent client, drops one that stays silent or
  /// does not answer our close.
  void tick(std::chrono::steady_clock::time_point now) override;

private:
  friend class websocket_sink;

  struct outbound {
    push_ptr message; // the payload is message->json
    uint8_t opcode;
  };

  void read();
  void on_readable(boost::system::error_code ec);
  enum class pass { gone, done, more };
  /// Handles the complete frames in in_, at most a pass's worth: `more`
  /// when frames may be left for the next pass, `gone` once the socket is.
  pass handle_frames();
  /// Queues a frame; `later`: leave the write to the lane's flush.
  void enqueue(push_ptr message, uint8_t opcode, bool later = false);
  void write_next();
  void on_written();
  void close_with(uint16_t code, std::string reason);
  /// Closes for a broken rule: the socket goes once the close frame is out.
  void fail_with(uint16_t code, std::string reason);
  void start_ticking();
  void shut();

  using handshake_stream =
      boost::beast::websocket::stream<boost::beast::tcp_stream>;
  std::unique_ptr<handshake_stream> handshake_; // until the upgrade is done
  boost::asio::ip::tcp::socket socket_;
  std::string in_; // a partial frame (empty while idle)
  ws::frame_reader reader_;
  live::token_bucket frame_budget_; // every client frame is charged
  caf::actor connection_;
  websocket_limits limits_;
  std::shared_ptr<node_stats> stats_;
  std::shared_ptr<io_delivery_lane> lane_; // null: write at once
  std::vector<outbound> queue_;            // waiting for the write in flight
  std::vector<outbound> sending_;          // in the write in flight
  std::size_t queued_bytes_ = 0;           // of queue_ and sending_
  std::vector<std::function<void()>> on_drained_; // see push_sink
  std::vector<ws::frame_header> headers_;
  std::vector<boost::asio::const_buffer> buffers_;
  // Calls tick() every second when there is no lane to do it (several io
  // threads); null otherwise, to keep idle connections small.
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point closing_since_;
  bool ping_sent_ = false;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;          // our close frame is queued or sent
  bool peer_closed_ = false;      // the client's close frame arrived
  bool fail_after_close_ = false; // linger once our close frame is written
  bool discarding_ = false;       // lingering: reads are thrown away
  bool backlog_ = false; // the last read pass left complete frames in in_
  bool shut_ = false;
  std::shared_ptr<void> slot_; // released when the socket closes
};

} // namespace switchboard::net

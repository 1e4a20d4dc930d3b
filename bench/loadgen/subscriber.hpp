// bench/loadgen/subscriber.hpp — one subscribing connection (WebSocket or
// Server-Sent Events) and the connector that opens many of them.
// Owns: the socket of each subscriber, the per-server handshake and
// subscribe step (the "adapters": switchboard, seed, socketio, nchan), and
// spreading connections over 127.0.0.x source addresses.
// Must never: block, or keep a received frame after handing it to run_state.
#pragma once

#include "options.hpp"
#include "run_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace loadgen {

// Opens a TCP connection from 127.0.0.<source> with IP_BIND_ADDRESS_NO_PORT
// (the kernel picks the port at connect time, not by a search at bind), so
// tens of thousands of connections open at ~10k/s.
void open_from_source(boost::asio::ip::tcp::socket& socket, int source,
                      boost::system::error_code& error);

// Opens options.conns subscribers, at most options.connect_parallel at a
// time, and calls `done` once every one is up or has failed.
class connector {
public:
  connector(boost::asio::io_context& io, const options& opts, run_state& state);

  void start(std::function<void()> done);
  int up() const { return up_; }
  int failed() const { return failed_; }
  // Closes every connection (at exit; the server sees orderly closes).
  void close_all();

private:
  void launch_next();
  void finished(bool ok);

  boost::asio::io_context& io_;
  const options& opts_;
  run_state& state_;
  std::function<void()> done_;
  int next_ = 0, in_flight_ = 0, up_ = 0, failed_ = 0;
  std::vector<std::shared_ptr<void>> connections_;
  std::vector<std::function<void()>> closers_;
};

} // namespace loadgen

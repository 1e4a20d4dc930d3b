// listener — accepts TCP connections on the node's HTTP port (on the first
// event loop) and gives each one, on the next loop in turn, an http_session
// and, through `spawn_connection` called on that loop, its connection actor,
// which the loop coordinator therefore places on the socket's own loop.
// Keeps a registry of live sessions so the node can drain them on shutdown.
// It never reads or writes a request itself.
#pragma once

#include "switchboard/http.hpp"
#include "switchboard/node_stats.hpp"

#include "src/net/connection_slots.hpp"
#include "src/net/http_session.hpp"
#include "src/net/session_services.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <caf/actor.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace switchboard::net {

class listener : public std::enable_shared_from_this<listener> {
public:
  /// Makes the connection actor for a new session (thread-safe).
  using connection_factory = std::function<caf::actor(
      http_sink_ptr sink, const std::string& client_address)>;

  /// `loops`: the event loops sessions are spread over (the first also
  /// runs the acceptor), each run by one thread; `services[i]`: what the
  /// sessions of loop i are handed (its own delivery lane and hot
  /// responses, which only that loop's thread touches).
  listener(std::vector<boost::asio::io_context*> loops, http_limits limits,
           std::size_t max_connections, std::size_t max_per_address,
           std::shared_ptr<node_stats> stats,
           std::vector<session_services> services,
           connection_factory spawn_connection);

  /// Binds and listens; throws boost::system::system_error on failure.
  /// Returns the bound port (useful with port 0).
  uint16_t bind(const std::string& host, uint16_t port);

  /// Starts accepting.
  void run();

  /// Stops accepting and asks every live session to close after its
  /// request in flight. Thread-safe.
  void drain();

  /// Live sessions.
  std::size_t session_count() const;

  /// Closes every session still alive (on its loop), telling its
  /// connection actor. Only for the final shutdown, after the drain.
  void abandon_all();

private:
  void accept();
  /// On the socket's loop: its session and its connection actor.
  void open_session(std::size_t loop, boost::asio::ip::tcp::socket socket,
                    connection_slots::slot slot, const std::string& address);
  void forget(const http_session* session);
  std::vector<std::shared_ptr<http_session>> live_sessions() const;

  std::vector<boost::asio::io_context*> loops_;
  std::size_t next_loop_ = 0; // the acceptor's strand only
  boost::asio::ip::tcp::acceptor acceptor_;
  http_limits limits_;
  std::shared_ptr<connection_slots> slots_; // every open socket, any kind
  std::shared_ptr<node_stats> stats_;
  std::vector<session_services> services_; // one per loop
  connection_factory spawn_connection_;
  mutable std::mutex mutex_;
  std::unordered_map<const http_session*, std::weak_ptr<http_session>>
      sessions_;
  bool logged_full_ = false;
  bool logged_address_full_ = false;
};

} // namespace switchboard::net

// listener — see listener.hpp.
#include "src/net/listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace switchboard::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(std::vector<asio::io_context*> loops, http_limits limits,
                   std::size_t max_connections, std::size_t max_per_address,
                   std::shared_ptr<node_stats> stats,
                   std::vector<session_services> services,
                   connection_factory spawn_connection)
    : loops_(std::move(loops)),
      acceptor_(asio::make_strand(*loops_.front())),
      limits_(limits),
      slots_(
          std::make_shared<connection_slots>(max_connections, max_per_address)),
      stats_(std::move(stats)),
      services_(std::move(services)),
      spawn_connection_(std::move(spawn_connection)) {}

uint16_t listener::bind(const std::string& host, uint16_t port) {
  tcp::endpoint endpoint{asio::ip::make_address(host), port};
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint().port();
}

void listener::run() {
  asio::post(acceptor_.get_executor(),
             [self = shared_from_this()] { self->accept(); });
}

void listener::accept() {
  // Each loop is one thread: its sessions need no strand, and its delivery
  // lane relies on every session handler going through its single FIFO
  // queue.
  auto index = next_loop_;
  next_loop_ = (next_loop_ + 1) % loops_.size();
  auto& loop = *loops_[index];
  acceptor_.async_accept(loop.get_executor(), [self = shared_from_this(), &loop,
                                               index](
                                                  boost::system::error_code ec,
                                                  tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open())
      return;
    if (ec) {
      // EMFILE and friends: log once per burst and keep accepting.
      spdlog::error("listener: accept failed: {}", ec.message());
      self->accept();
      return;
    }
    boost::system::error_code ignored;
    auto remote = socket.remote_endpoint(ignored);
    auto address = ignored ? std::string{} : remote.address().to_string();
    connection_slots::refusal why{};
    auto slot = self->slots_->acquire(address, why);
    if (!slot) {
      // Refused before a byte is read: the cheapest answer to a flood.
      self->stats_->connections.refused.fetch_add(1, std::memory_order_relaxed);
      auto& logged = why == connection_slots::refusal::node_full
                         ? self->logged_full_
                         : self->logged_address_full_;
      if (!logged)
        spdlog::warn("listener: refusing connections: {}",
                     why == connection_slots::refusal::node_full
                         ? "max_connections reached"
                         : "max_connections_per_ip reached by " + address);
      logged = true;
      socket.close(ignored);
    } else {
      self->logged_full_ = false;
      self->logged_address_full_ = false;
      self->stats_->connections.accepted.fetch_add(1,
                                                   std::memory_order_relaxed);
      // On the socket's loop from here on: the session, and the
      // connection actor spawned there so that it lives there too.
      asio::post(loop, [self, index, socket = std::move(socket),
                        slot = std::move(slot),
                        address = std::move(address)]() mutable {
        self->open_session(index, std::move(socket), std::move(slot), address);
      });
    }
    self->accept();
  });
}

void listener::open_session(std::size_t loop, tcp::socket socket,
                            connection_slots::slot slot,
                            const std::string& address) {
  auto session = std::shared_ptr<http_session>(
      new http_session(std::move(socket), limits_, stats_, services_[loop]),
      [weak = weak_from_this()](http_session* s) {
        if (auto l = weak.lock())
          l->forget(s);
        delete s;
      });
  session->hold(std::move(slot));
  auto actor = spawn_connection_(session->sink(), address);
  {
    std::lock_guard<std::mutex> guard{mutex_};
    sessions_.emplace(session.get(), session);
  }
  session->start(std::move(actor));
}

void listener::forget(const http_session* session) {
  std::lock_guard<std::mutex> guard{mutex_};
  sessions_.erase(session);
}

void listener::drain() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
  for (auto& session : live_sessions())
    session->drain();
}

std::vector<std::shared_ptr<http_session>> listener::live_sessions() const {
  std::vector<std::shared_ptr<http_session>> live;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& [ptr, entry] : sessions_)
    if (auto session = entry.lock())
      live.push_back(std::move(session));
  return live;
}

std::size_t listener::session_count() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return sessions_.size();
}

void listener::abandon_all() {
  for (auto& session : live_sessions())
    session->abandon(); // posts to the session's loop
}

} // namespace switchboard::net

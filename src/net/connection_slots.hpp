// connection_slots — the node's count of open TCP connections, in all and
// per client address, from accept until the socket is closed, whichever
// session holds it by then (HTTP, or the WebSocket / SSE session it was
// handed to). A slot is a shared_ptr whose last release gives the place
// back. Bookkeeping only, thread-safe; it never touches a socket.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace switchboard::net {

class connection_slots : public std::enable_shared_from_this<connection_slots> {
public:
  /// `max_per_address` 0: no per-address limit (a node behind a balancer
  /// sees every client as the balancer's address; limit there instead).
  connection_slots(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  using slot = std::shared_ptr<void>;

  enum class refusal { none, node_full, address_full };

  /// A slot for a connection from `address`, or null with `why` set.
  slot acquire(const std::string& address, refusal& why);

private:
  void release(const std::string& address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

} // namespace switchboard::net

// anonymous_subscriptions — how many live subscriptions anonymous clients
// hold per client address (address_key), across every WebSocket and SSE
// connection of this node, bounded by `max_per_address` (0: no bound; off
// behind a balancer, where every client has the balancer's address). A
// `hold` is what one connection has taken; it gives its subscriptions back
// when released or destroyed, so a connection actor that dies for any reason
// frees its share. Entries exist only while something is held, so the table
// is bounded by the node's connections. Bookkeeping only, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace switchboard::live {

class anonymous_subscriptions
    : public std::enable_shared_from_this<anonymous_subscriptions> {
public:
  explicit anonymous_subscriptions(std::size_t max_per_address)
      : max_per_address_(max_per_address) {}

  /// One connection's share, for one address.
  class hold {
  public:
    hold() = default;
    hold(const hold&) = delete;
    hold& operator=(const hold&) = delete;
    hold(hold&&) noexcept;
    hold& operator=(hold&&) noexcept;
    ~hold() { release(count_); }

    /// Takes `n` more (all or none); false: the address is at its bound.
    bool take(std::size_t n = 1);
    /// Gives back `n` (at most what is held).
    void release(std::size_t n);
    std::size_t count() const { return count_; }

  private:
    friend class anonymous_subscriptions;
    hold(std::shared_ptr<anonymous_subscriptions> table, std::string key)
        : table_(std::move(table)), key_(std::move(key)) {}
    std::shared_ptr<anonymous_subscriptions> table_;
    std::string key_;
    std::size_t count_ = 0;
  };

  /// An empty hold for a connection from `address`.
  hold for_address(const std::string& address);

  std::size_t addresses() const;

private:
  bool take(const std::string& key, std::size_t n);
  void give_back(const std::string& key, std::size_t n);

  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> held_;
};

} // namespace switchboard::live

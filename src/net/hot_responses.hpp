// hot_responses — the io thread's memory of fresh cache hits, so a hot
// anonymous GET is answered without the hop into the actors and back (two
// thread switches, which cost more than the hit itself on one core). It
// holds only answers the cache actor gave from its L1 (cache_result's
// generation), each for at most hot_max_age_ms and never past the value's
// freshness, and forgets all of them as soon as the cache says its
// generation moved (an invalidation, a mode change): the cache tells it
// before acknowledging a write, and on its loop's one FIFO queue that
// notice is queued ahead of any request that arrives after the write's
// answer, so a write is still visible to the very next read on any loop
// (docs/architecture.md, "Hot responses"). Each event loop has its own;
// the cache tells them all through hot_responses_of_loops.
// Must never: be touched by a thread other than its loop's (but for
// stale_from), answer a request that carries credentials, or grow past
// max_entries or max_bytes. Keys are raw
// targets, but only targets the router accepted (unknown or repeated query
// parameters are 400s, never kept), so junk query strings cannot fill it.
#pragma once

#include "switchboard/cache.hpp"
#include "switchboard/http.hpp"
#include "switchboard/node_stats.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::net {

class hot_responses : public cache_listener,
                      public std::enable_shared_from_this<hot_responses> {
public:
  hot_responses(boost::asio::any_io_executor io, std::size_t max_entries,
                std::size_t max_bytes, std::chrono::milliseconds max_age,
                std::shared_ptr<node_stats> stats)
      : io_(std::move(io)),
        max_entries_(max_entries),
        max_bytes_(max_bytes),
        max_age_ms_(max_age.count()),
        stats_(std::move(stats)) {}

  /// Thread-safe (the cache actor calls it): posts the new floor.
  void stale_from(uint64_t generation) override;

  /// io thread: may `request` be answered from here at all?
  static bool eligible(const http_request& request);
  /// io thread: the answer for an eligible request, if one is kept.
  std::optional<http_response> answer(const http_request& request);
  /// io thread: remembers `response` to the eligible request for `target`.
  void keep(const std::string& target, const http_response& response);

private:
  struct entry {
    std::string body, etag, cache_control, content_type;
    uint64_t generation;
    int64_t until_ms;
  };

  static std::size_t size_of(const std::string& target, const entry& kept);

  boost::asio::any_io_executor io_;
  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0; // of every kept entry, keys included
  int64_t max_age_ms_;
  std::shared_ptr<node_stats> stats_;
  uint64_t floor_ = 0; // io thread: answers of older generations are stale
  std::unordered_map<std::string, entry> entries_; // io thread, by target
};

/// The cache's one listener for the hot responses of every loop.
class hot_responses_of_loops final : public cache_listener {
public:
  explicit hot_responses_of_loops(
      std::vector<std::shared_ptr<hot_responses>> loops)
      : loops_(std::move(loops)) {}

  /// Thread-safe: tells every loop.
  void stale_from(uint64_t generation) override {
    for (auto& loop : loops_)
      loop->stale_from(generation);
  }

private:
  std::vector<std::shared_ptr<hot_responses>> loops_;
};

} // namespace switchboard::net

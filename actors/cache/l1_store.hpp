// l1_store — the node-local cache level: a map from key to cached_value,
// bounded by an entry count and a byte budget, evicting the least recently
// used first, with an index by invalidation group. A plain data structure
// owned by the `cache` actor; not thread-safe, no I/O.
#pragma once

#include "src/cache/cached_value.hpp"

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace switchboard {

class l1_store {
public:
  l1_store(std::size_t max_entries, std::size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  /// The value for `key`, marking it recently used; nullptr if absent.
  const cached_value* find(const std::string& key);

  /// Inserts or replaces; returns how many entries were evicted for room.
  std::size_t put(const std::string& key, const std::string& group,
                  cached_value value);

  void erase(const std::string& key);

  /// Drops every value stored under `group`.
  void erase_group(const std::string& group);

  void clear();

  /// Makes every value stop being fresh at `until_ms` at the latest.
  void cap_freshness(int64_t until_ms);

  std::size_t size() const { return items_.size(); }
  std::size_t bytes() const { return bytes_; }

private:
  struct item {
    std::string group;
    cached_value value;
    std::size_t bytes;
    std::list<std::string>::iterator lru; // position in `order_`
  };

  void evict_one();

  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, item> items_;
  std::list<std::string> order_; // front: most recently used
  std::unordered_map<std::string, std::unordered_set<std::string>> groups_;
};

} // namespace switchboard

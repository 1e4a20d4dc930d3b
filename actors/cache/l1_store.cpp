// l1_store — see l1_store.hpp. A key's bytes count its value, its key twice
// (map and LRU list) and its group index entry, so the budget tracks what
// the process really holds, within a small constant per entry.
#include "actors/cache/l1_store.hpp"

#include <algorithm>

namespace switchboard {

namespace {

constexpr std::size_t per_entry_overhead = 96; // nodes, hashes, pointers

} // namespace

const cached_value* l1_store::find(const std::string& key) {
  auto i = items_.find(key);
  if (i == items_.end())
    return nullptr;
  order_.splice(order_.begin(), order_, i->second.lru);
  return &i->second.value;
}

std::size_t l1_store::put(const std::string& key, const std::string& group,
                          cached_value value) {
  erase(key);
  auto bytes =
      value.bytes() + 3 * key.size() + group.size() + per_entry_overhead;
  if (bytes > max_bytes_ || max_entries_ == 0)
    return 0; // larger than the whole budget: not worth holding
  std::size_t evicted = 0;
  while (!items_.empty() &&
         (items_.size() + 1 > max_entries_ || bytes_ + bytes > max_bytes_)) {
    evict_one();
    ++evicted;
  }
  order_.push_front(key);
  items_.emplace(key, item{group, std::move(value), bytes, order_.begin()});
  groups_[group].insert(key);
  bytes_ += bytes;
  return evicted;
}

void l1_store::erase(const std::string& key) {
  auto i = items_.find(key);
  if (i == items_.end())
    return;
  bytes_ -= i->second.bytes;
  order_.erase(i->second.lru);
  auto g = groups_.find(i->second.group);
  if (g != groups_.end()) {
    g->second.erase(key);
    if (g->second.empty())
      groups_.erase(g);
  }
  items_.erase(i);
}

void l1_store::erase_group(const std::string& group) {
  auto g = groups_.find(group);
  if (g == groups_.end())
    return;
  auto keys = std::move(g->second);
  groups_.erase(g);
  for (auto& key : keys) {
    auto i = items_.find(key);
    if (i == items_.end())
      continue;
    bytes_ -= i->second.bytes;
    order_.erase(i->second.lru);
    items_.erase(i);
  }
}

void l1_store::clear() {
  items_.clear();
  order_.clear();
  groups_.clear();
  bytes_ = 0;
}

void l1_store::cap_freshness(int64_t until_ms) {
  for (auto& [key, entry] : items_)
    entry.value.fresh_until_ms = std::min(entry.value.fresh_until_ms, until_ms);
}

void l1_store::evict_one() {
  // A copy: erase() destroys the list node the back() reference points into.
  auto key = order_.back();
  erase(key);
}

} // namespace switchboard

// unauthenticated_requests — see unauthenticated_requests.hpp.
#include "src/net/unauthenticated_requests.hpp"

namespace switchboard::net {

unauthenticated_requests::entry*
unauthenticated_requests::find_or_make(const std::string& key,
                                       clock::time_point now) {
  if (auto i = entries_.find(key); i != entries_.end())
    return &i->second;
  if (entries_.size() >= max_addresses_) {
    // Drop every address that has its whole allowance back: it is as if it
    // had never been seen. At most once a second: with the table full of
    // busy addresses, a sweep per request would cost O(table) each.
    if (now < next_sweep_)
      return nullptr;
    next_sweep_ = now + std::chrono::seconds{1};
    for (auto i = entries_.begin(); i != entries_.end();) {
      if (i->second.anonymous.full(now) && i->second.refused.full(now))
        i = entries_.erase(i);
      else
        ++i;
    }
    if (entries_.size() >= max_addresses_)
      return nullptr;
  }
  live::token_bucket fresh{rate_, burst_, now};
  return &entries_.emplace(key, entry{fresh, fresh}).first->second;
}

unauthenticated_requests::verdict
unauthenticated_requests::admit(const std::string& key, bool has_credential,
                                clock::time_point now) {
  if (!enabled())
    return {};
  std::lock_guard<std::mutex> guard{mutex_};
  auto* e = find_or_make(key, now);
  if (!e)
    return {std::chrono::milliseconds{0}, true};
  if (auto wait = e->refused.wait(now); wait.count() > 0)
    return {wait};
  if (has_credential)
    return {};
  if (!e->anonymous.take(now))
    return {e->anonymous.wait(now)};
  return {};
}

void unauthenticated_requests::refused_credential(const std::string& key,
                                                  clock::time_point now) {
  if (!enabled())
    return;
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto* e = find_or_make(key, now))
    e->refused.spend(now);
}

std::size_t unauthenticated_requests::tracked() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return entries_.size();
}

} // namespace switchboard::net

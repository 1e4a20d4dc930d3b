// unauthenticated_requests — see unauthenticated_requests.hpp.
#include "src/net/unauthenticated_requests.hpp"

#include "switchboard/client_address.hpp"

#include <algorithm>

namespace switchboard::net {

void unauthenticated_requests::bucket::refill(clock::time_point now,
                                              uint32_t rate, uint32_t burst) {
  auto elapsed = std::chrono::duration<double>(now - last).count();
  if (elapsed > 0) {
    tokens = std::min<double>(burst, tokens + elapsed * rate);
    last = now;
  }
}

std::chrono::milliseconds
unauthenticated_requests::wait(const bucket& b) const {
  if (b.tokens >= 1.0)
    return std::chrono::milliseconds{0};
  return std::chrono::milliseconds{
      static_cast<int64_t>((1.0 - b.tokens) * 1000.0 / rate_) + 1};
}

unauthenticated_requests::entry*
unauthenticated_requests::find_or_make(const std::string& key,
                                       clock::time_point now) {
  if (auto i = entries_.find(key); i != entries_.end())
    return &i->second;
  if (entries_.size() >= max_addresses_) {
    // Drop every address that has its whole allowance back: it is as if
    // it had never been seen.
    auto full_after = std::chrono::duration<double>(double(burst_) / rate_);
    for (auto i = entries_.begin(); i != entries_.end();) {
      auto idle =
          now - std::max(i->second.anonymous.last, i->second.refused.last);
      if (idle >= full_after)
        i = entries_.erase(i);
      else
        ++i;
    }
    if (entries_.size() >= max_addresses_)
      return nullptr;
  }
  bucket fresh{double(burst_), now};
  return &entries_.emplace(key, entry{fresh, fresh}).first->second;
}

unauthenticated_requests::verdict
unauthenticated_requests::admit(const std::string& address, bool has_credential,
                                clock::time_point now) {
  if (!enabled())
    return {};
  auto key = address_key(address);
  std::lock_guard<std::mutex> guard{mutex_};
  auto* e = find_or_make(key, now);
  if (!e)
    return {std::chrono::milliseconds{0}, true};
  e->refused.refill(now, rate_, burst_);
  if (e->refused.tokens < 1.0)
    return {wait(e->refused)};
  if (has_credential)
    return {};
  e->anonymous.refill(now, rate_, burst_);
  if (e->anonymous.tokens < 1.0)
    return {wait(e->anonymous)};
  e->anonymous.tokens -= 1.0;
  return {};
}

void unauthenticated_requests::refused_credential(const std::string& address,
                                                  clock::time_point now) {
  if (!enabled())
    return;
  auto key = address_key(address);
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto* e = find_or_make(key, now)) {
    e->refused.refill(now, rate_, burst_);
    e->refused.tokens = std::max(0.0, e->refused.tokens - 1.0);
  }
}

std::size_t unauthenticated_requests::tracked() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return entries_.size();
}

} // namespace switchboard::net

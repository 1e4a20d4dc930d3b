// anonymous_subscriptions — see anonymous_subscriptions.hpp.
#include "src/live/anonymous_subscriptions.hpp"

#include "switchboard/client_address.hpp"

#include <algorithm>

namespace switchboard::live {

anonymous_subscriptions::hold::hold(hold&& other) noexcept
    : table_(std::move(other.table_)),
      key_(std::move(other.key_)),
      count_(std::exchange(other.count_, 0)) {}

anonymous_subscriptions::hold&
anonymous_subscriptions::hold::operator=(hold&& other) noexcept {
  if (this != &other) {
    release(count_);
    table_ = std::move(other.table_);
    key_ = std::move(other.key_);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

bool anonymous_subscriptions::hold::take(std::size_t n) {
  if (!table_ || n == 0)
    return true; // no table: no bound
  if (!table_->take(key_, n))
    return false;
  count_ += n;
  return true;
}

void anonymous_subscriptions::hold::release(std::size_t n) {
  n = std::min(n, count_);
  if (!table_ || n == 0)
    return;
  count_ -= n;
  table_->give_back(key_, n);
}

anonymous_subscriptions::hold
anonymous_subscriptions::for_address(const std::string& address) {
  if (max_per_address_ == 0)
    return hold{};
  return hold{shared_from_this(), address_key(address)};
}

bool anonymous_subscriptions::take(const std::string& key, std::size_t n) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& mine = held_[key];
  if (mine + n > max_per_address_) {
    if (mine == 0)
      held_.erase(key);
    return false;
  }
  mine += n;
  return true;
}

void anonymous_subscriptions::give_back(const std::string& key, std::size_t n) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = held_.find(key);
  if (i == held_.end())
    return;
  i->second -= std::min(n, i->second);
  if (i->second == 0)
    held_.erase(i);
}

std::size_t anonymous_subscriptions::addresses() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return held_.size();
}

} // namespace switchboard::live

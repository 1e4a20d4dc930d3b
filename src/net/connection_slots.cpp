// connection_slots — see connection_slots.hpp.
#include "src/net/connection_slots.hpp"

namespace switchboard::net {

connection_slots::slot connection_slots::acquire(const std::string& address,
                                                 refusal& why) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (total_ >= max_total_) {
      why = refusal::node_full;
      return nullptr;
    }
    auto& mine = per_address_[address];
    if (max_per_address_ != 0 && mine >= max_per_address_) {
      why = refusal::address_full;
      return nullptr;
    }
    ++mine;
    ++total_;
  }
  why = refusal::none;
  // The deleter keeps the table alive until the last slot is back.
  return slot{static_cast<void*>(this),
              [self = shared_from_this(), address](void*) {
                self->release(address);
              }};
}

void connection_slots::release(const std::string& address) {
  std::lock_guard<std::mutex> guard{mutex_};
  --total_;
  auto i = per_address_.find(address);
  if (i != per_address_.end() && --i->second == 0)
    per_address_.erase(i);
}

} // namespace switchboard::net

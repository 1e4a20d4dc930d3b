// token_bucket — a rate limit: `rate` actions per second on average, up to
// `burst` at once after a pause. Owned by one actor (not thread-safe);
// knows nothing of what it limits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace switchboard::live {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket() = default;
  token_bucket(uint32_t rate, uint32_t burst,
               clock::time_point now = clock::now())
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  /// Takes one token if there is one.
  bool take(clock::time_point now = clock::now()) {
    refill(now);
    if (tokens_ < 1.0)
      return false;
    tokens_ -= 1.0;
    return true;
  }

  /// Takes one token if there is one, and nothing otherwise: a charge for
  /// something that already happened (it cannot be refused).
  void spend(clock::time_point now = clock::now()) {
    refill(now);
    tokens_ = std::max(0.0, tokens_ - 1.0);
  }

  /// Whether the whole burst is back (nothing spent is still owed).
  bool full(clock::time_point now = clock::now()) {
    refill(now);
    return tokens_ >= burst_;
  }

  /// How long until a token is available (zero if one is).
  std::chrono::milliseconds wait(clock::time_point now = clock::now()) {
    refill(now);
    if (tokens_ >= 1.0 || rate_ == 0)
      return std::chrono::milliseconds{0};
    auto ms = (1.0 - tokens_) * 1000.0 / rate_;
    return std::chrono::milliseconds{static_cast<int64_t>(ms) + 1};
  }

private:
  void refill(clock::time_point now) {
    if (now <= last_)
      return; // time given out of order never takes tokens away
    auto elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * rate_);
  }

  uint32_t rate_ = 0;
  uint32_t burst_ = 0;
  double tokens_ = 0;
  clock::time_point last_{};
};

} // namespace switchboard::live

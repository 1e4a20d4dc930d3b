// bench/loadgen/run_state.hpp — what the subscribers and the publisher share.
// Owns: the clock, the current step's accounting (which sequence numbers are
// measured, what was expected and received, latencies) and the parsing of a
// received push for its `seq` and `t` fields.
// Must never: be touched from more than one thread (the load generator runs
// one io thread, and this is only ever used from it).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace loadgen {

struct run_state {
  std::chrono::steady_clock::time_point origin =
      std::chrono::steady_clock::now();

  // Microseconds since the generator started; scheduled times use it too.
  int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now() - origin)
        .count();
  }

  // Subscribers that are up, per channel index.
  std::vector<int> subscribers_per_channel;
  int channels = 1;

  // Messages with first <= seq < end are measured; end grows while the
  // measured window is open (UINT64_MAX), then is fixed.
  uint64_t measure_first_seq = UINT64_MAX;
  uint64_t measure_end_seq = UINT64_MAX;
  uint64_t expected = 0; // deliveries owed for the measured messages
  uint64_t received = 0; // measured deliveries seen
  uint64_t received_total = 0;
  uint64_t unparsed = 0; // pushes without seq/t (never expected)
  std::vector<uint32_t> latencies_us;
  static constexpr size_t max_latency_samples = 64u << 20;

  int connections_up = 0;
  int connections_lost = 0; // closed by the server after being up

  bool measured(uint64_t seq) const {
    return seq >= measure_first_seq && seq < measure_end_seq;
  }

  // Message `seq` on channel `channel` is due: every subscriber of that
  // channel is owed it, whether or not the publish then succeeds (a refused
  // publish is a loss as well as a publish error).
  void scheduled(uint64_t seq, int channel) {
    if (measured(seq))
      expected += static_cast<uint64_t>(subscribers_per_channel[channel]);
  }

  // A push arrived; `text` holds (at least) the payload JSON.
  void delivered(std::string_view text) {
    ++received_total;
    uint64_t seq = 0;
    int64_t scheduled = 0;
    if (!read_number(text, "\"seq\":", seq) ||
        !read_number(text, "\"t\":", scheduled)) {
      ++unparsed;
      return;
    }
    if (!measured(seq))
      return;
    ++received;
    if (latencies_us.size() < max_latency_samples) {
      int64_t latency = now_us() - scheduled;
      latencies_us.push_back(static_cast<uint32_t>(latency < 0 ? 0 : latency));
    }
  }

  void reset_step() {
    measure_first_seq = measure_end_seq = UINT64_MAX;
    expected = received = 0;
    latencies_us.clear();
  }

private:
  template <class Int>
  static bool read_number(std::string_view text, std::string_view key,
                          Int& out) {
    auto at = text.find(key);
    if (at == std::string_view::npos)
      return false;
    at += key.size();
    Int value = 0;
    bool any = false;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      value = value * 10 + static_cast<Int>(text[at] - '0');
      ++at;
      any = true;
    }
    out = value;
    return any;
  }
};

} // namespace loadgen

// bench/loadgen/main.cpp — sb_loadgen: the benchmark's load generator.
// Owns: the sequence of a run (connect, settle, then per step warm-up,
// measure, drain) and the JSON lines it prints, one per record, on stdout;
// progress goes to stderr. See bench/README.md for the workloads.
// Must never: run more than one thread (the figures assume one load core), or
// report a step as passing with a connection down, a message lost or a
// publish refused.
#include "options.hpp"
#include "proc_stats.hpp"
#include "publisher.hpp"
#include "run_state.hpp"
#include "stampede.hpp"
#include "subscriber.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

using namespace loadgen;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

// Runs handlers until `done()` holds or `seconds` pass; returns done().
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               double seconds) {
  auto deadline =
      clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                              std::chrono::duration<double>(seconds));
  while (!done() && clock_type::now() < deadline)
    io.run_one_until(
        std::min(deadline, clock_type::now() + std::chrono::milliseconds(5)));
  return done();
}

void run_for(asio::io_context& io, double seconds) {
  run_until(
      io, [] { return false; }, seconds);
}

double percentile_ms(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

const char* target_name(const options& opts) {
  switch (opts.target) {
  case target::switchboard:
    return "switchboard";
  case target::seed:
    return "seed";
  case target::socketio:
    return "socketio";
  case target::nchan:
    return "nchan";
  }
  return "?";
}

int run_live_or_idle(asio::io_context& io, const options& opts) {
  run_state state;
  long long rss_before = process_rss_bytes(opts.server_pid);
  connector subscribers(io, opts, state);
  bool connected = false;
  auto connect_start = clock_type::now();
  subscribers.start([&] { connected = true; });
  run_until(
      io, [&] { return connected; }, opts.connect_timeout_s);
  double connect_seconds =
      std::chrono::duration<double>(clock_type::now() - connect_start).count();
  std::printf("{\"kind\":\"connected\",\"target\":\"%s\",\"transport\":\"%s\","
              "\"conns\":%d,\"up\":%d,\"seconds\":%.3f}\n",
              target_name(opts), opts.transport == transport::ws ? "ws" : "sse",
              opts.conns, state.connections_up, connect_seconds);
  std::fflush(stdout);
  if (state.connections_up == 0 && opts.conns > 0) {
    std::fprintf(stderr, "no connection came up\n");
    return 1;
  }
  run_for(io, opts.settle_s);

  if (opts.mode == mode::idle) {
    long long rss_after = process_rss_bytes(opts.server_pid);
    int up = state.connections_up;
    std::printf("{\"kind\":\"idle\",\"conns\":%d,\"up\":%d,\"rss_before\":%lld,"
                "\"rss_after\":%lld,\"bytes_per_conn\":%.1f}\n",
                opts.conns, up, rss_before, rss_after,
                up > 0 ? static_cast<double>(rss_after - rss_before) / up
                       : 0.0);
    std::fflush(stdout);
    subscribers.close_all();
    io.poll();
    return 0;
  }

  publisher pub(io, opts, state);
  bool pub_connected = false, pub_ok = false;
  pub.connect([&](bool ok) {
    pub_connected = true;
    pub_ok = ok;
  });
  run_until(
      io, [&] { return pub_connected; }, 10);
  if (!pub_ok) {
    std::fprintf(stderr, "publishers could not connect\n");
    return 1;
  }

  int failures_in_a_row = 0;
  for (double rate : opts.rates) {
    state.reset_step();
    uint64_t errors_before = pub.errors, published_before = pub.published;
    pub.error_statuses.clear();
    int lost_before = state.connections_lost;
    pub.start(rate);
    run_for(io, opts.warmup_s);
    state.measure_first_seq = pub.next_seq();
    double cpu_start = process_cpu_seconds(opts.server_pid);
    double self_start = process_cpu_seconds(0);
    auto measure_start = clock_type::now();
    run_for(io, opts.measure_s);
    state.measure_end_seq = pub.next_seq();
    uint64_t received_in_window = state.received;
    double cpu = process_cpu_seconds(opts.server_pid) - cpu_start;
    double self_cpu = process_cpu_seconds(0) - self_start;
    double measured_seconds =
        std::chrono::duration<double>(clock_type::now() - measure_start)
            .count();
    long long rss = process_rss_bytes(opts.server_pid);
    pub.stop();
    // Drain: until every queued publish is acknowledged and every owed
    // delivery arrived, or the drain time is up.
    run_until(
        io, [&] { return pub.idle() && state.received >= state.expected; },
        opts.drain_s);
    std::sort(state.latencies_us.begin(), state.latencies_us.end());
    uint64_t messages = state.measure_end_seq - state.measure_first_seq;
    uint64_t errors = pub.errors - errors_before;
    long long lost = static_cast<long long>(state.expected) -
                     static_cast<long long>(state.received);
    bool backlog = !pub.idle(); // publishes still queued after the drain
    if (backlog)
      errors += 1;
    std::string why;
    for (auto& [status, count] : pub.error_statuses)
      why += (why.empty() ? "" : ",") +
             ("\"" + std::to_string(status) + "\":" + std::to_string(count));
    if (backlog)
      why += std::string(why.empty() ? "" : ",") + "\"backlog\":1";
    double p99 = percentile_ms(state.latencies_us, 0.99);
    bool pass = state.connections_up == subscribers.up() &&
                subscribers.up() == opts.conns &&
                state.connections_lost == lost_before && lost == 0 &&
                errors == 0 && p99 < 200 && state.expected > 0;
    double deliveries_per_s =
        static_cast<double>(received_in_window) / measured_seconds;
    std::printf(
        "{\"kind\":\"step\",\"target\":\"%s\",\"transport\":\"%s\","
        "\"rate\":%g,\"conns\":%d,\"channels\":%d,\"conns_up\":%d,"
        "\"published\":%llu,\"measured_messages\":%llu,\"publish_errors\":%llu,"
        "\"expected\":%llu,\"received\":%llu,\"lost\":%lld,"
        "\"deliveries_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
        "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
        "\"server_cpu_s\":%.3f,\"cpu_us_per_delivery\":%.3f,"
        "\"cpu_us_per_message\":%.3f,\"server_cpu_percent\":%.1f,"
        "\"loadgen_cpu_percent\":%.1f,\"server_rss_bytes\":%lld,"
        "\"publish_error_statuses\":{%s},\"pass\":%s}\n",
        target_name(opts), opts.transport == transport::ws ? "ws" : "sse", rate,
        opts.conns, opts.channels, state.connections_up,
        static_cast<unsigned long long>(pub.published - published_before),
        static_cast<unsigned long long>(messages),
        static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(state.expected),
        static_cast<unsigned long long>(state.received), lost, deliveries_per_s,
        percentile_ms(state.latencies_us, 0.50),
        percentile_ms(state.latencies_us, 0.90), p99,
        percentile_ms(state.latencies_us, 0.999),
        state.latencies_us.empty() ? 0.0 : state.latencies_us.back() / 1000.0,
        cpu,
        received_in_window > 0
            ? cpu * 1e6 / static_cast<double>(received_in_window)
            : 0.0,
        messages > 0 ? cpu * 1e6 / static_cast<double>(messages) : 0.0,
        100 * cpu / measured_seconds, 100 * self_cpu / measured_seconds, rss,
        why.c_str(), pass ? "true" : "false");
    std::fflush(stdout);
    std::fprintf(stderr,
                 "  rate %g/s: %.0f deliveries/s, p50 %.2f ms, p99 %.2f ms, "
                 "lost %lld, errors %llu, server cpu %.0f%% -> %s\n",
                 rate, deliveries_per_s, percentile_ms(state.latencies_us, 0.5),
                 p99, lost, static_cast<unsigned long long>(errors),
                 100 * cpu / measured_seconds, pass ? "PASS" : "FAIL");
    failures_in_a_row = pass ? 0 : failures_in_a_row + 1;
    if (failures_in_a_row >= opts.stop_after_failures)
      break;
    if (!pub.idle()) {
      // The server is too far behind for the next step to mean anything.
      std::fprintf(stderr, "  publisher still backlogged: stopping\n");
      break;
    }
  }
  subscribers.close_all();
  io.poll();
  return 0;
}

int run_stampede_mode(asio::io_context& io, const options& opts) {
  auto result = run_stampede(io, opts);
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  auto pct = [&](double p) {
    if (result.latencies_ms.empty())
      return 0.0;
    return result.latencies_ms[static_cast<size_t>(
        p * static_cast<double>(result.latencies_ms.size() - 1))];
  };
  std::string statuses;
  for (auto& [status, count] : result.statuses) {
    if (!statuses.empty())
      statuses += ',';
    statuses += "\"" + std::to_string(status) + "\":" + std::to_string(count);
  }
  std::printf("{\"kind\":\"stampede\",\"path\":\"%s\",\"requests\":%d,"
              "\"connected\":%d,\"answered\":%d,\"ok\":%d,\"statuses\":{%s},"
              "\"all_answered_ms\":%.2f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
              opts.path.c_str(), result.requests, result.connected,
              result.answered, result.ok, statuses.c_str(),
              result.all_answered_ms, pct(0.5), pct(0.99));
  std::fflush(stdout);
  return result.connected == result.requests ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  options opts = parse_options(argc, argv);
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  if (opts.mode == mode::stampede)
    return run_stampede_mode(io, opts);
  return run_live_or_idle(io, opts);
}

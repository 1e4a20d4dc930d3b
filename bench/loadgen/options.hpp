// bench/loadgen/options.hpp — the load generator's command line.
// Owns: parsing and validating --key=value flags into `options`.
// Must never: open sockets or read /proc (main.cpp and the drivers do).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loadgen {

enum class mode { live, idle, stampede };
enum class target { switchboard, seed, socketio, nchan };
enum class transport { ws, sse };

struct options {
  loadgen::mode mode = mode::live;
  loadgen::target target = target::switchboard;
  loadgen::transport transport = transport::ws;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int conns = 1000;
  int channels = 1;
  std::vector<double> rates{10};
  int stop_after_failures = 2;
  int publishers = 16;
  double settle_s = 1, warmup_s = 2, measure_s = 8, drain_s = 3;
  int sources = 50;
  int payload = 100;
  std::string api_key;
  int server_pid = 0;
  std::string path = "/api/books/1";
  int requests = 500;
  std::string channel_prefix; // empty: the target's default
  int connect_parallel = 512;
  double connect_timeout_s = 60;

  // The name of channel `index` (0-based) as the target spells it.
  std::string channel_name(int index) const;
};

// Parses argv; on a usage error prints it and exits with status 2.
options parse_options(int argc, char** argv);

} // namespace loadgen

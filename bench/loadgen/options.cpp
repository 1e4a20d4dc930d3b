// bench/loadgen/options.cpp — see options.hpp.
#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace loadgen {

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "sb_loadgen: %s\n"
               "usage: sb_loadgen --mode=live|idle|stampede "
               "--target=switchboard|seed|socketio|nchan --transport=ws|sse\n"
               "  --host=127.0.0.1 --port=P --conns=N --channels=C "
               "--rates=r1,r2,...\n"
               "  --stop-after-failures=2 --publishers=16 --settle=1 "
               "--warmup=2 --measure=8 --drain=3\n"
               "  --sources=50 --payload=100 --api-key=KEY --server-pid=PID\n"
               "  --path=/api/books/1 --requests=500 --channel-prefix=P "
               "--connect-parallel=512\n",
               why.c_str());
  std::exit(2);
}

double to_double(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    double result = std::stod(value, &used);
    if (used != value.size() || result < 0)
      throw std::invalid_argument(value);
    return result;
  } catch (const std::exception&) {
    usage("--" + key + " needs a non-negative number, got '" + value + "'");
  }
}

int to_int(const std::string& key, const std::string& value) {
  double result = to_double(key, value);
  if (result != static_cast<int>(result))
    usage("--" + key + " needs an integer, got '" + value + "'");
  return static_cast<int>(result);
}

} // namespace

std::string options::channel_name(int index) const {
  if (!channel_prefix.empty())
    return channel_prefix + std::to_string(index + 1);
  if (target == target::switchboard)
    return "books:" + std::to_string(index + 1);
  return "bench" + std::to_string(index + 1);
}

options parse_options(int argc, char** argv) {
  options result;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help")
      usage("help");
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos)
      usage("arguments are --key=value, got '" + arg + "'");
    std::string key = arg.substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    if (key == "mode") {
      if (value == "live")
        result.mode = mode::live;
      else if (value == "idle")
        result.mode = mode::idle;
      else if (value == "stampede")
        result.mode = mode::stampede;
      else
        usage("unknown mode '" + value + "'");
    } else if (key == "target") {
      if (value == "switchboard")
        result.target = target::switchboard;
      else if (value == "seed")
        result.target = target::seed;
      else if (value == "socketio")
        result.target = target::socketio;
      else if (value == "nchan")
        result.target = target::nchan;
      else
        usage("unknown target '" + value + "'");
    } else if (key == "transport") {
      if (value == "ws")
        result.transport = transport::ws;
      else if (value == "sse")
        result.transport = transport::sse;
      else
        usage("unknown transport '" + value + "'");
    } else if (key == "host") {
      result.host = value;
    } else if (key == "port") {
      int port = to_int(key, value);
      if (port < 1 || port > 65535)
        usage("--port out of range");
      result.port = static_cast<uint16_t>(port);
    } else if (key == "conns") {
      result.conns = to_int(key, value);
    } else if (key == "channels") {
      result.channels = to_int(key, value);
    } else if (key == "rates") {
      result.rates.clear();
      std::stringstream in(value);
      std::string item;
      while (std::getline(in, item, ','))
        result.rates.push_back(to_double(key, item));
      if (result.rates.empty())
        usage("--rates needs at least one rate");
    } else if (key == "stop-after-failures") {
      result.stop_after_failures = to_int(key, value);
    } else if (key == "publishers") {
      result.publishers = to_int(key, value);
    } else if (key == "settle") {
      result.settle_s = to_double(key, value);
    } else if (key == "warmup") {
      result.warmup_s = to_double(key, value);
    } else if (key == "measure") {
      result.measure_s = to_double(key, value);
    } else if (key == "drain") {
      result.drain_s = to_double(key, value);
    } else if (key == "sources") {
      result.sources = to_int(key, value);
    } else if (key == "payload") {
      result.payload = to_int(key, value);
    } else if (key == "api-key") {
      result.api_key = value;
    } else if (key == "server-pid") {
      result.server_pid = to_int(key, value);
    } else if (key == "path") {
      result.path = value;
    } else if (key == "requests") {
      result.requests = to_int(key, value);
    } else if (key == "channel-prefix") {
      result.channel_prefix = value;
    } else if (key == "connect-parallel") {
      result.connect_parallel = to_int(key, value);
    } else if (key == "connect-timeout") {
      result.connect_timeout_s = to_double(key, value);
    } else {
      usage("unknown option --" + key);
    }
  }
  if (result.channels < 1 || result.sources < 1 || result.sources > 250 ||
      result.publishers < 1 || result.connect_parallel < 1)
    usage("--channels, --publishers, --connect-parallel must be >= 1 and "
          "--sources within 1..250");
  if (result.measure_s <= 0)
    usage("--measure must be > 0");
  return result;
}

} // namespace loadgen

// config_fuzz — the configuration file and flags (src/config/config.cpp):
// the input's first line-separated part is the INI file, the rest flags.
#include "switchboard/config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  auto split = text.find("\n--\n");
  std::string ini = text.substr(0, split);
  static const std::string path =
      "/tmp/sb-config-fuzz-" + std::to_string(getpid()) + ".ini";
  std::ofstream{path, std::ios::binary | std::ios::trunc} << ini;
  std::vector<std::string> args{"switchboard", "--config=" + path};
  if (split != std::string::npos) {
    std::string rest = text.substr(split + 4);
    size_t start = 0;
    while (start <= rest.size() && args.size() < 32) {
      auto end = rest.find('\n', start);
      args.push_back(rest.substr(start, end - start));
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
  }
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  auto result =
      switchboard::load_config(static_cast<int>(argv.size()), argv.data());
  if (result.errors.empty() && result.config.http_port > 65535)
    std::abort();
  return 0;
}

// bench/loadgen/proc_stats.hpp — CPU time and RSS of a process, from /proc.
// Owns: reading /proc/<pid>/stat and /proc/<pid>/status.
// Must never: be called on a hot path (it opens files).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace loadgen {

// utime + stime of `pid` in seconds (0 when unknown); pid 0 means ourselves.
inline double process_cpu_seconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : "/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line))
    return 0;
  // The command name (field 2) may hold spaces: fields after its ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ')': state is field 3; utime is field 14, stime 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14)
      utime = std::stoull(field);
    if (index == 15)
      stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident set size of `pid` in bytes (0 when unknown).
inline long long process_rss_bytes(int pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

} // namespace loadgen

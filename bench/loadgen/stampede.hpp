// bench/loadgen/stampede.hpp — many concurrent cold reads of one key.
// Owns: N keep-alive connections that are all connected first and then each
// send one GET at the same moment; the time until the last answer.
// Must never: send a request before every connection is up (the stampede
// would then be spread over the connect time and prove nothing).
#pragma once

#include "options.hpp"

#include <boost/asio/io_context.hpp>

#include <map>
#include <vector>

namespace loadgen {

struct stampede_result {
  int requests = 0, connected = 0, answered = 0, ok = 0;
  std::map<unsigned, int> statuses;
  std::vector<double> latencies_ms;
  double all_answered_ms = 0;
};

// Runs the stampede on `io` (which the caller runs) and returns when done or
// after the connect timeout.
stampede_result run_stampede(boost::asio::io_context& io, const options& opts);

} // namespace loadgen

// json_numbers — whether a parsed JSON value holds only finite numbers.
// Boost.JSON reads a number beyond double's range (1e400) as infinity and
// would write it back as `Infinity`, which is not JSON: every layer that
// relays client JSON (HTTP bodies, WebSocket publishes) refuses such input
// with this one check. A leaf: includes nothing of the project.
#pragma once

#include <boost/json/value.hpp>

namespace switchboard {

/// Whether every number in `value` is finite.
bool finite_numbers(const boost::json::value& value);

} // namespace switchboard

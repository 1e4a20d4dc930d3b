// stats_document — this node's figures as the JSON of /stats (without the
// cluster view, which needs Redis): what /stats, /metrics and the node's
// heartbeat publish. Reads node_stats only; changes nothing.
#pragma once

#include "switchboard/node_context.hpp"

#include <boost/json/object.hpp>

namespace switchboard::http {

boost::json::object stats_document(const node_context& node);

} // namespace switchboard::http

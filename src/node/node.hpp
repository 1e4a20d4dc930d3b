// node — assembles and runs one Switchboard node, in a fixed, written order:
//   start: logging -> migrations -> io_context -> actor system -> redis_bridge,
//          db_pool, cache -> listener bound -> io threads -> wait for signal
//   stop:  listener drains (no new connections; each finishes its request)
//          -> wait up to shutdown_grace_ms -> node actors exit -> Redis
//          connection closed -> io threads joined -> leftover connection
//          actors told to exit -> actor system joins every actor.
// It owns the io_context and the actor_system; nothing else creates either.
#pragma once

#include "switchboard/config.hpp"

namespace switchboard {

/// Runs a node until SIGTERM/SIGINT; returns the process exit code.
int run_node(const node_config& config);

/// Applies migrations and returns the process exit code.
int migrate_only(const node_config& config);

} // namespace switchboard

// atoms.hpp — every atom used between Switchboard actors, declared once.
// CAF 0.17 atoms are at most 10 characters.
#pragma once

#include <caf/atom.hpp>

namespace switchboard {

// cache protocol
using cache_get_atom = caf::atom_constant<caf::atom("cache_get")>;
using entry_done_atom = caf::atom_constant<caf::atom("entry_done")>;
using entry_stop_atom = caf::atom_constant<caf::atom("entry_stop")>;

// database protocol
using db_run_atom = caf::atom_constant<caf::atom("db_run")>;
using db_idle_atom = caf::atom_constant<caf::atom("db_idle")>;
using db_ping_atom = caf::atom_constant<caf::atom("db_ping")>;

// redis protocol
using redis_cmd_atom = caf::atom_constant<caf::atom("redis_cmd")>;
using redis_rep_atom = caf::atom_constant<caf::atom("redis_rep")>;
using redis_up_atom = caf::atom_constant<caf::atom("redis_up")>;
using redis_down_atom = caf::atom_constant<caf::atom("redis_down")>;

// connection protocol
using conn_closed_atom = caf::atom_constant<caf::atom("conn_close")>;

// shared
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

} // namespace switchboard

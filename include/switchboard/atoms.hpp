// atoms.hpp — every atom used between Switchboard actors, declared once.
// CAF 0.17 atoms are at most 10 characters.
#pragma once

#include <caf/atom.hpp>

namespace switchboard {

// cache protocol
using cache_get_atom = caf::atom_constant<caf::atom("cache_get")>;
using cache_inval_atom = caf::atom_constant<caf::atom("cache_inv")>;
using cache_fill_atom = caf::atom_constant<caf::atom("cache_fill")>;
using cache_refresh_atom = caf::atom_constant<caf::atom("cache_rfsh")>;
using lease_wait_atom = caf::atom_constant<caf::atom("lease_wait")>;
using soft_timeout_atom = caf::atom_constant<caf::atom("soft_tmo")>;
using ack_timeout_atom = caf::atom_constant<caf::atom("ack_tmo")>;
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
using redis_sub_atom = caf::atom_constant<caf::atom("redis_sub")>;
using redis_unsub_atom = caf::atom_constant<caf::atom("redis_uns")>;
using redis_msg_atom = caf::atom_constant<caf::atom("redis_msg")>;
// "your subscriptions are (re)established; messages may have been missed"
using redis_resub_atom = caf::atom_constant<caf::atom("redis_resb")>;
using redis_lost_atom = caf::atom_constant<caf::atom("redis_lost")>;
/// Redis confirmed the SUBSCRIBE of one channel (io thread -> redis_bridge).
using redis_subok_atom = caf::atom_constant<caf::atom("redis_sok")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;

// connection protocol
using conn_closed_atom = caf::atom_constant<caf::atom("conn_close")>;
using ws_open_atom = caf::atom_constant<caf::atom("ws_open")>;
using sse_open_atom = caf::atom_constant<caf::atom("sse_open")>;

// channel protocol
using channel_join_atom = caf::atom_constant<caf::atom("ch_join")>;
using channel_leave_atom = caf::atom_constant<caf::atom("ch_leave")>;
using channel_idle_atom = caf::atom_constant<caf::atom("ch_idle")>;
using channel_stop_atom = caf::atom_constant<caf::atom("ch_stop")>;
/// To a channel, from a resuming joiner's sink: its last history batch has
/// drained, send the next (channel.cpp, catch_up).
using channel_more_atom = caf::atom_constant<caf::atom("ch_more")>;
/// To itself: resumes from past what the channel delivered waited long enough.
using channel_lag_atom = caf::atom_constant<caf::atom("ch_lag")>;

// session protocol
using user_join_atom = caf::atom_constant<caf::atom("usr_join")>;
using user_leave_atom = caf::atom_constant<caf::atom("usr_leave")>;
using user_idle_atom = caf::atom_constant<caf::atom("usr_idle")>;
using user_stop_atom = caf::atom_constant<caf::atom("usr_stop")>;
// "this token was logged out": to a session, and from it to a connection
using logout_atom = caf::atom_constant<caf::atom("logout")>;
// the node is draining: live connections are told 1001
using drain_atom = caf::atom_constant<caf::atom("drain")>;

// fan-out protocol
using fanout_poke_atom = caf::atom_constant<caf::atom("fan_poke")>;
/// To feed_keeper: this user's notification feed may be wrong.
using feed_suspect_atom = caf::atom_constant<caf::atom("feed_susp")>;
using cleanup_atom = caf::atom_constant<caf::atom("cleanup")>;

// shared
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

} // namespace switchboard

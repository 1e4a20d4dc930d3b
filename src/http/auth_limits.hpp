// auth_limits — the limits on login and register, kept in Redis so they hold
// across the cluster: attempts per client address (login and register share
// one counter) and failed logins per username, each a fixed-window counter
// (auth_window_s, starting with the first attempt it counts) changed by one
// Lua script per attempt. It runs before any hashing or database work, and
// it also runs the hashing jobs on the db_pool's bounded hashing queue.
// Never: hashes, touches PostgreSQL, or lets an attempt through unchecked.
//
// Decisions (docs/api.md, docs/operations.md):
// - An attempt is charged when admitted, so concurrent guesses cannot all
//   slip under the limit; a successful login gives its username charge back
//   (a right password costs nothing) and an attempt that was never decided
//   (503: hashing busy, database down) gives both back.
// - While a username is limited, the right password is refused too: telling
//   right from wrong would need the hash the limit exists to spare.
// - Redis unavailable: login and register are refused with 503 (fail
//   closed, logged once per outage). Neither can succeed without Redis
//   anyway — the session it would open lives there — so failing open would
//   only hand an attacker free hashes (and register an account whose client
//   never got its token).
// - A burst is logged once per window: when a username's failed logins
//   reach the limit, and when an address's attempts do (the counters are
//   shared, so exactly one node sees each limit reached).
#pragma once

#include "switchboard/db.hpp"

#include "src/http/router.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace switchboard::http {

/// What an admitted attempt was charged, to be settled once it is decided.
struct auth_ticket {
  std::string address;
  std::string username; // empty for register
  std::string address_key;
  std::string user_key; // empty for register
  int64_t address_count = 0;
  int64_t user_count = 0;
};

enum class auth_outcome {
  succeeded,   // the password matched, or the account was made
  failed,      // a wrong username or password, a name already taken
  not_decided, // nothing was hashed or the database failed: 503
};

/// Charges one attempt from the request's address (and, for login, against
/// `username`) and calls `then` if it is within the limits. Otherwise it
/// answers 429 rate_limited with Retry-After (the seconds until the window
/// that refused it ends), or 503 if Redis did not answer.
void admit_auth_attempt(route_call& call, const std::string& username,
                        std::function<void(auth_ticket)> then);

/// Settles an admitted attempt (see the decisions above); logs a burst.
void settle_auth_attempt(route_call& call, const auth_ticket& ticket,
                         auth_outcome outcome);

/// Runs `job`, which hashes a password, on the db_pool's hashing queue, and
/// hands `then` every result (a pool that did not answer: unavailable).
void run_hash_job(route_call& call, db_job job,
                  std::function<void(db_result&)> then);

} // namespace switchboard::http

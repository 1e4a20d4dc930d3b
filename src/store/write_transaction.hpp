// write_transaction — how every write job ends. It commits only before its
// deadline (db_job::deadline: a write the node answered 503 for never lands
// later), and, given an idempotency claim, it runs at most once per caller
// and key: the claim is taken in the write's own transaction, so it exists
// exactly when the write committed, and a repeat gets the first result back.
// Runs on a db_worker's thread; never touches an actor.
#pragma once

#include "switchboard/db.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace switchboard::store {

/// An Idempotency-Key as the store keeps it (see 0004_idempotency_keys.sql).
struct idempotency_claim {
  std::string caller;      // "user:<id>", or "register"
  std::string key;         // the header, as sent
  std::string fingerprint; // SHA-256 hex of the request
};

/// Keys are kept this long; an older one is free again.
constexpr std::chrono::hours idempotency_window{24};

/// A write's work: runs in the transaction it is given and never commits
/// it. A result other than ok rolls everything back, the claim included (so
/// a refused write can be retried with its key).
using write_body = std::function<db_result(pqxx::transaction_base&)>;

/// The job: opens a transaction, takes `claim` (if any; a live one with the
/// same fingerprint answers its first result with `replayed`, another
/// fingerprint is conflict), runs `body`, keeps its result with the claim,
/// and commits in time.
db_job write_job(std::string name, std::optional<idempotency_claim> claim,
                 write_body body);

/// Thrown by commit_in_time past the deadline; the transaction rolls back.
struct deadline_passed : std::runtime_error {
  deadline_passed() : std::runtime_error{"the write's deadline passed"} {}
};

/// Commits `tx` unless the running job's deadline has passed.
void commit_in_time(pqxx::transaction_base& tx);

/// Set by db_worker around each job (its thread runs one job at a time).
void set_job_deadline(std::chrono::steady_clock::time_point deadline);

} // namespace switchboard::store

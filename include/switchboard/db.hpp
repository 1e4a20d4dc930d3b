// db.hpp — the messages between the rest of the node and the database layer
// (db_pool, db_worker). A db_job is a function run on a worker's own
// PostgreSQL connection, off the cooperative scheduler; its captures must be
// plain values (it crosses threads). Nothing here may touch libpqxx types
// beyond the forward declaration.
#pragma once

#include <boost/json/value.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace switchboard {

/// What a job's outcome means to the caller; HTTP mapping is the caller's.
enum class db_status {
  ok,
  not_found,
  unauthorized,
  conflict,
  forbidden,
  insufficient_funds,
  bad_request,
  unavailable, // the database could not be reached or timed out
};

struct db_result {
  db_status status = db_status::ok;
  boost::json::value value;
  std::string message;
  /// unavailable only: the connection broke while COMMIT was under way, so
  /// the job's writes may or may not have been applied. Every other failure
  /// means nothing was written (the transaction never committed).
  bool outcome_unknown = false;
  /// ok only: the write was made before with the same Idempotency-Key;
  /// `value` is that first write's result and nothing changed now.
  bool replayed = false;
};

/// One unit of database work. `name` names it in logs.
struct db_job {
  std::string name;
  std::function<db_result(pqxx::connection_base&)> run;
  /// Writes: past it the worker does not start the job, and the job does
  /// not commit (src/store/write_transaction.hpp), so a write its caller
  /// stopped waiting for (and answered 503) never lands later.
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::time_point::max();
};

/// A db_job that hashes or verifies a password: sent to the pool as
/// `(db_run_atom, db_hash_job)` instead of `(db_run_atom, db_job)`, so it
/// waits in the pool's bounded hashing queue (actors/db_pool).
struct db_hash_job {
  db_job job;
};

} // namespace switchboard

// db jobs and results never leave the process: no serialization needed.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::db_hash_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::db_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::db_result)

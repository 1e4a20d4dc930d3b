// db_worker — see db_worker.hpp. Connects lazily and again after any broken
// connection, so a database restart heals without restarting the node.
// Every failure becomes a db_result the caller can map; nothing throws out.
#include "actors/db_worker/db_worker.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"
#include "switchboard/instrumented.hpp"

#include "src/store/statements.hpp"
#include "src/store/write_transaction.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <thread>

namespace switchboard {

namespace {

struct db_worker_state {
  static inline const char* name = "db_worker";
  std::unique_ptr<kind_counter> counter;
  db_worker_config config;
  std::unique_ptr<pqxx::connection> connection;
  bool logged_down = false; // log an outage once, not once per job
};

using db_worker_actor = instrumented_actor<db_worker_state>;

bool ensure_connected(db_worker_state& st) {
  if (st.connection && st.connection->is_open())
    return true;
  st.connection.reset();
  try {
    auto conn = std::make_unique<pqxx::connection>(st.config.database_url);
    pqxx::nontransaction setup{*conn};
    setup.exec0("SET statement_timeout = " +
                std::to_string(st.config.statement_timeout.count()));
    setup.exec0("SET application_name = 'switchboard'");
    setup.commit();
    store::prepare_statements(*conn);
    st.connection = std::move(conn);
    if (st.logged_down)
      spdlog::info("db_worker: reconnected to PostgreSQL");
    st.logged_down = false;
    st.counter->stats().db_up = true;
    return true;
  } catch (const std::exception& e) {
    if (!st.logged_down)
      spdlog::error("db_worker: cannot connect to PostgreSQL: {}", e.what());
    st.logged_down = true;
    st.counter->stats().db_up = false;
    return false;
  }
}

db_result run_job(db_worker_state& st, db_job& job) {
  if (st.config.fault_delay.count() > 0) // test-only: a slow database
    std::this_thread::sleep_for(st.config.fault_delay);
  // A write whose caller stopped waiting (and answered 503) must not land.
  if (std::chrono::steady_clock::now() >= job.deadline) {
    spdlog::warn("db_worker: {} not started: its deadline passed", job.name);
    return {db_status::unavailable, {}, "database busy"};
  }
  if (!ensure_connected(st))
    return {db_status::unavailable, {}, "database unavailable"};
  store::set_job_deadline(job.deadline);
  try {
    return job.run(*st.connection);
  } catch (const store::deadline_passed&) {
    spdlog::warn("db_worker: {} rolled back: its deadline passed before "
                 "COMMIT",
                 job.name);
    return {db_status::unavailable, {}, "database timeout"};
  } catch (const pqxx::in_doubt_error& e) {
    // The connection broke during COMMIT: the write may have landed.
    spdlog::error("db_worker: {}: commit in doubt: {}", job.name, e.what());
    st.connection.reset();
    st.logged_down = true;
    st.counter->stats().db_up = false;
    db_result doubt{db_status::unavailable, {}, "database connection lost"};
    doubt.outcome_unknown = true;
    return doubt;
  } catch (const pqxx::broken_connection& e) {
    spdlog::error("db_worker: connection lost during {}: {}", job.name,
                  e.what());
    st.connection.reset();
    st.logged_down = true;
    st.counter->stats().db_up = false;
    return {db_status::unavailable, {}, "database connection lost"};
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "57014") { // query_canceled: statement_timeout hit
      spdlog::warn("db_worker: {} timed out", job.name);
      return {db_status::unavailable, {}, "database timeout"};
    }
    // A statement the database refused: a bug or a schema mismatch, never a
    // user's fault (user input is validated before a job is built).
    spdlog::error("db_worker: {} failed: {} (sqlstate {})", job.name, e.what(),
                  e.sqlstate());
    return {db_status::unavailable, {}, "database error"};
  } catch (const std::exception& e) {
    spdlog::error("db_worker: {} failed: {}", job.name, e.what());
    return {db_status::unavailable, {}, "database error"};
  }
}

caf::behavior db_worker_impl(db_worker_actor* self,
                             std::shared_ptr<node_stats> stats,
                             db_worker_config config, caf::actor pool) {
  self->state.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::db_worker);
  self->state.config = std::move(config);
  return {
      [=](db_run_atom, db_job& job) -> db_result {
        auto result = run_job(self->state, job);
        self->send(pool, db_idle_atom::value);
        return result;
      },
      [=](db_ping_atom) -> bool { return ensure_connected(self->state); },
  };
}

} // namespace

caf::actor spawn_db_worker(caf::actor_system& system,
                           std::shared_ptr<node_stats> stats,
                           db_worker_config config, caf::actor pool) {
  if (!config.detached)
    return system.spawn(db_worker_impl, std::move(stats), std::move(config),
                        std::move(pool));
  return system.spawn<caf::detached>(db_worker_impl, std::move(stats),
                                     std::move(config), std::move(pool));
}

} // namespace switchboard

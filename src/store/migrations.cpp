// migrations — see migrations.hpp.
#include "src/store/migrations.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <set>

namespace switchboard::store {

namespace {

// Any constant shared by all nodes; names the lock in pg_locks.
constexpr long long migration_lock_id = 0x5357'4254'4348; // "SWBTCH"

} // namespace

int apply_migrations(const std::string& database_url) {
  pqxx::connection conn{database_url};
  pqxx::work tx{conn, "migrate"};
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_id);
  tx.exec0("CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version integer PRIMARY KEY,"
           " name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())");
  std::set<int> applied;
  for (auto row : tx.exec("SELECT version FROM schema_migrations"))
    applied.insert(row[0].as<int>());
  int count = 0;
  for (const auto& m : embedded_migrations()) {
    if (applied.count(m.version) > 0)
      continue;
    spdlog::info("migrations: applying {} ({})", m.version, m.name);
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO schema_migrations (version, name) "
                   "VALUES ($1, $2)",
                   m.version, std::string{m.name});
    ++count;
  }
  tx.commit();
  if (count == 0)
    spdlog::info("migrations: schema is up to date ({} known)",
                 embedded_migrations().size());
  return count;
}

} // namespace switchboard::store

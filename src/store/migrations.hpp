// migrations — versioned schema changes from db/migrations, embedded at
// build time (cmake/EmbedMigrations.cmake) and applied at start. Runs before
// the actor system serves anything, on its own short-lived connection.
#pragma once

#include <string>
#include <vector>

namespace switchboard::store {

struct migration {
  int version;
  const char* name;
  const char* sql;
};

/// All migrations in version order (generated).
const std::vector<migration>& embedded_migrations();

/// Applies every migration not yet recorded in `schema_migrations`, all in
/// one transaction under an advisory lock, so nodes starting together apply
/// each exactly once. Returns the number applied; throws on failure.
int apply_migrations(const std::string& database_url);

} // namespace switchboard::store

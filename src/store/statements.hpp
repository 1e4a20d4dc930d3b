// statements — every SQL statement the node prepares, by name, in one place
// so a reader can see all the node's queries at once. Prepared on each
// db_worker connection when it connects; used only from db_jobs.
#pragma once

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace switchboard::store {

void prepare_statements(pqxx::connection_base& connection);

} // namespace switchboard::store

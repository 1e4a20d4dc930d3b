// health — see health.hpp.
#include "src/store/health.hpp"

#include <pqxx/pqxx>

namespace switchboard::store {

db_job ping() {
  return {"ping", [](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            tx.exec("SELECT 1");
            return {db_status::ok, {}, {}};
          }};
}

} // namespace switchboard::store

// health — the db_job /readyz uses to ask PostgreSQL whether it answers.
#pragma once

#include "switchboard/db.hpp"

namespace switchboard::store {

db_job ping();

} // namespace switchboard::store

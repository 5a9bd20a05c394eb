// The schema, as ordered migrations per backend. A new migration is appended to both lists with the
// same version number; released migrations are never edited.
#pragma once

#include <vector>

#include "store/sql_database.h"

namespace mdmgw::store {

const std::vector<Migration>& SqliteMigrations();
const std::vector<Migration>& PostgresMigrations();

}  // namespace mdmgw::store

// SqliteDatabase: SqlDatabase over one SQLite connection (WAL, foreign keys on, 5 s busy timeout).
#pragma once

#include <memory>
#include <string>

#include "store/sql_database.h"

namespace mdmgw::store {

// Opens (creating if needed) the database at |path|; ":memory:" for an in-memory database.
Result<std::unique_ptr<SqlDatabase>> OpenSqlite(const std::string& path);

}  // namespace mdmgw::store

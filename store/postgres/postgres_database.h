// PostgresDatabase: SqlDatabase over one libpq connection, reconnecting once when it drops.
#pragma once

#include <memory>
#include <string>

#include "store/sql_database.h"

namespace mdmgw::store {

// |url| is a libpq connection URI (postgres://user:pass@host:port/db?sslmode=...).
Result<std::unique_ptr<SqlDatabase>> OpenPostgres(const std::string& url);

}  // namespace mdmgw::store

// PostgresDatabase: SqlDatabase over a pool of libpq connections (several gateway instances share
// one PostgreSQL, and each instance runs statements from many threads at once).
//
// A statement takes an idle connection (or opens one, up to max_connections) and gives it back
// when done; a Transaction keeps its connection for the whole body, and statements the body runs
// on the same thread use that connection. When every connection is busy for acquire_timeout, the
// statement fails Unavailable ("all N connections busy") rather than queueing without bound. A
// connection the server dropped is made again on its next use (outside a transaction).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/sql_database.h"

namespace mdmgw::store {

struct PostgresOptions {
  int max_connections = 8;  // per gateway instance; PostgreSQL's own default limit is 100
  std::chrono::milliseconds acquire_timeout{5000};
};

// |url| is a libpq connection URI (postgres://user:pass@host:port/db?sslmode=...). One connection
// is opened at once, so a wrong URL fails here.
Result<std::unique_ptr<SqlDatabase>> OpenPostgres(const std::string& url,
                                                  const PostgresOptions& options = {});

}  // namespace mdmgw::store

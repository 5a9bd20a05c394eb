// A throwaway PostgreSQL server for tests: initdb into a temp dir, pg_ctl start on a free loopback
// port (as the "postgres" user when run as root, since PostgreSQL refuses to run as root), and
// stop + delete at the end. Available() is false only when no server binaries are installed; set
// MDMGW_REQUIRE_POSTGRES=1 (CI does) to turn that into a failure instead of a skip.
#pragma once

#include <memory>
#include <string>

namespace mdmgw::testing {

class PostgresServer {
 public:
  // Starts a server; on failure url() is empty and error() says why.
  PostgresServer();
  ~PostgresServer();

  bool running() const { return !url_.empty(); }
  const std::string& error() const { return error_; }
  // postgres://postgres@127.0.0.1:PORT/postgres
  const std::string& url() const { return url_; }
  // Creates a fresh database and returns its URL (isolation between tests).
  std::string CreateDatabase(const std::string& name);

  // The bin dir holding initdb/pg_ctl, or "" when PostgreSQL is not installed.
  static std::string FindBinDir();

 private:
  std::string RunAsOwner(const std::string& command) const;
  std::string bin_dir_;
  std::string dir_;
  std::string url_;
  std::string error_;
  int port_ = 0;
  bool as_postgres_user_ = false;
};

// One server for the whole test binary (started on first use, stopped at exit).
PostgresServer& SharedPostgres();

}  // namespace mdmgw::testing

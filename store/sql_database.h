// SqlDatabase: the narrow SQL driver interface under every store role. Two backends implement it
// (sqlite/ and postgres/); the role stores (api_key_store, push_cert_store, ...) are written once
// against it in portable SQL with $1..$N placeholders.
//
// Why one driver seam instead of one .cc per role per backend (DESIGN §6 suggests the latter): the
// role SQL is identical on both engines, so writing it twice would only add copies to keep in step.
// Dialect differences live in the migrations, which stay per backend.
//
// Thread-safety: implementations serialise access; a Transaction holds the connection for its body.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

// Bytes (BLOB / BYTEA), distinct from text.
struct Blob {
  std::string bytes;
};

using SqlValue = std::variant<std::monostate, int64_t, std::string, Blob>;
using SqlRow = std::vector<SqlValue>;

// Typed access to a row cell; wrong types read as empty/zero (the schema decides types).
int64_t AsInt(const SqlValue& v);
std::string AsText(const SqlValue& v);  // text or blob bytes
bool IsNull(const SqlValue& v);

struct Migration {
  int version;
  std::string name;
  std::string sql;  // one or more statements
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;

  // Runs a statement with $1..$N parameters and returns its rows.
  // Errors: AlreadyExists on a unique-constraint violation; Unavailable when the server is
  // unreachable; InvalidArgument on SQL errors.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params = {}) = 0;
  // Runs a statement; returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs |body| in one transaction: committed when it returns OK, rolled back otherwise.
  virtual Status Transaction(const std::function<Status()>& body) = 0;
  // Cheap round trip for readiness checks.
  virtual Status Ping() = 0;
  // "sqlite" or "postgres".
  virtual std::string_view backend() const = 0;
  // An SQL expression for the database server's current time in Unix milliseconds. Leases are
  // judged by this one clock, so instances whose own clocks disagree still agree on expiry.
  virtual std::string_view NowMillisSql() const = 0;

  // Tells the other processes using this database that |payload| happened on |channel|; inside a
  // Transaction body it is sent only if that transaction commits. Only PostgreSQL is shared by
  // several gateways: SQLite has nobody to tell, and returns OK.
  virtual Status Notify(std::string_view channel, std::string_view payload);
  // Calls |on_notify| with the payload of every Notify on |channel| by any process (this one
  // included), from a thread of its own, until the returned object is destroyed. |on_reconnect|
  // runs after the listening connection was lost and made again (notifications may have been
  // missed meanwhile). Returns null where there is nothing to listen to (SQLite).
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  virtual Result<std::unique_ptr<Subscription>> Listen(
      const std::string& channel, std::function<void(const std::string& payload)> on_notify,
      std::function<void()> on_reconnect);

  // Applies |migrations| (ascending versions) that are not yet recorded in schema_migrations,
  // each in its own transaction. Returns the schema version afterwards.
  // Several instances starting together on one PostgreSQL: one migrates, the others wait for it
  // (WithMigrationLock) and then find nothing left to do.
  Result<int> Migrate(const std::vector<Migration>& migrations);
  Result<int> SchemaVersion();

  // Why a write failed for want of storage (disk full, read-only, I/O error, server unreachable)
  // since the last ClearWriteFailure, or nullopt. Sticky on purpose: on a nearly full disk small
  // writes may still fit while larger ones fail, so only a probe that needs new space (Store::Ping)
  // may declare the storage healthy again.
  std::optional<std::string> LastWriteFailure() const;
  void ClearWriteFailure();

 protected:
  // Runs several statements with no parameters (migration scripts).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Runs |body| (Migrate's work) so that no other process migrates the same database at once:
  // PostgreSQL holds an advisory lock on one connection for it; SQLite's single writer needs none.
  virtual Status WithMigrationLock(const std::function<Status()>& body) { return body(); }
  // Backends report the outcome of every write (Exec, Transaction) here. Only Unavailable counts
  // as a storage failure; constraint and SQL errors say nothing about the storage, and a success
  // clears nothing (see LastWriteFailure).
  void NoteWrite(const Status& outcome);

 private:
  Result<int> MigrateLocked(const std::vector<Migration>& migrations);
  std::atomic<bool> write_failed_{false};
  mutable std::mutex write_mu_;
  std::string write_failure_;  // GUARDED_BY(write_mu_)
};

}  // namespace mdmgw::store

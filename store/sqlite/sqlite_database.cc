#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <mutex>
#include <unordered_map>

namespace mdmgw::store {
namespace {

class SqliteDatabase final : public SqlDatabase {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    std::lock_guard lock(mu_);
    std::vector<SqlRow> rows;
    Status s = Run(sql, params, &rows, nullptr);
    if (!s.ok()) return s;
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::lock_guard lock(mu_);
    int64_t changes = 0;
    Status s = Run(sql, params, nullptr, &changes);
    NoteWrite(s);
    if (!s.ok()) return s;
    return changes;
  }

  Status Transaction(const std::function<Status()>& body) override {
    std::lock_guard lock(mu_);
    // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading.
    Status begun = ExecScript("BEGIN IMMEDIATE");
    if (!begun.ok()) {
      NoteWrite(begun);
      return begun;
    }
    Status s = body();
    if (s.ok()) {
      s = ExecScript("COMMIT");
      NoteWrite(s);
      if (s.ok()) return s;
    }
    (void)ExecScript("ROLLBACK");
    return s;
  }

  Status Ping() override {
    auto rows = Query("SELECT 1", {});
    return rows.status();
  }

  std::string_view backend() const override { return "sqlite"; }
  std::string_view NowMillisSql() const override {
    // julianday() has millisecond resolution; 2440587.5 is the Julian day of the Unix epoch.
    return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
  }

 protected:
  Status ExecScript(std::string_view sql) override {
    std::lock_guard lock(mu_);
    char* err = nullptr;
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      sqlite3_free(err);
      return Error(rc);  // the same mapping as statements: a full disk at COMMIT is Unavailable
    }
    return Status::Ok();
  }

 private:
  Status Error(int rc) const {
    std::string msg = std::string("sqlite: ") + sqlite3_errmsg(db_);
    int primary = rc & 0xff;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
      return Status::AlreadyExists(msg);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Unavailable(msg);
    if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
        primary == SQLITE_READONLY) {
      return Status::Unavailable(msg);
    }
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::DataLoss(msg);
    return Status::InvalidArgument(msg);
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows,
             int64_t* changes) {
    // Prepared statements are kept per SQL text: the role stores run a fixed set of statements, and
    // preparing one costs more than running it (the check-in hot path showed sqlite3_prepare).
    sqlite3_stmt* stmt = nullptr;
    int rc = SQLITE_OK;
    std::string key(sql);
    if (auto it = statements_.find(key); it != statements_.end()) {
      stmt = it->second;
    } else {
      rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return Error(rc);
      if (statements_.size() >= kMaxStatements) {
        for (auto& [text, old] : statements_) sqlite3_finalize(old);
        statements_.clear();
      }
      statements_.emplace(std::move(key), stmt);
    }
    // Reset (not finalize) when done: the statement stays prepared and releases its locks.
    struct ResetGuard {
      sqlite3_stmt* s;
      ~ResetGuard() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } guard{stmt};
    // SQLITE_STATIC: |params| outlives the step, and the guard clears the bindings before Run
    // returns, so SQLite need not copy each value (a sealed unlock token is over 1 KB).
    // "$N" is an SQLite named parameter; binding by name keeps $N meaning the N-th value even when
    // a statement uses them out of order or twice.
    for (size_t i = 0; i < params.size(); ++i) {
      std::string name = "$" + std::to_string(i + 1);
      int idx = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (idx == 0) continue;
      const SqlValue& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else {
        const auto& b = std::get<Blob>(v).bytes;
        rc = sqlite3_bind_blob(stmt, idx, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return Error(rc);
    }
    for (;;) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error(sqlite3_extended_errcode(db_));
      if (rows == nullptr) continue;
      int n = sqlite3_column_count(stmt);
      SqlRow row;
      row.reserve(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_BLOB: {
            const void* p = sqlite3_column_blob(stmt, c);
            int len = sqlite3_column_bytes(stmt, c);
            row.emplace_back(
                Blob{std::string(static_cast<const char*>(p), static_cast<size_t>(len))});
            break;
          }
          default: {
            const unsigned char* p = sqlite3_column_text(stmt, c);
            int len = sqlite3_column_bytes(stmt, c);
            row.emplace_back(
                std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(len)));
          }
        }
      }
      rows->push_back(std::move(row));
    }
    if (changes != nullptr) *changes = sqlite3_changes64(db_);
    return Status::Ok();
  }

  static constexpr size_t kMaxStatements = 512;
  sqlite3* db_;
  std::recursive_mutex mu_;  // one connection; recursive so Transaction bodies can query
  std::unordered_map<std::string, sqlite3_stmt*> statements_;  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: every use of the connection already holds SqliteDatabase::mu_, so SQLite's own
  // per-connection mutex would only be a second lock on each statement.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::Unavailable("cannot open SQLite database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  auto database = std::make_unique<SqliteDatabase>(db);
  char* err = nullptr;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Unavailable("cannot configure SQLite database " + path + ": " + msg);
  }
  return std::unique_ptr<SqlDatabase>(std::move(database));
}

}  // namespace mdmgw::store

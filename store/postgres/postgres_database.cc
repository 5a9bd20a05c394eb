#include "store/postgres/postgres_database.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/encoding.h"
#include "common/log.h"

namespace mdmgw::store {
namespace {

// Type OIDs from PostgreSQL's pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// The advisory lock key migrations run under ("mdmgw" + 1): any bigint works, as long as every
// gateway uses the same one and nothing else in the database does.
constexpr int64_t kMigrationLockKey = 0x6d646d677701;

std::string Trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

PGconn* Connect(const std::string& url, std::string* error) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return nullptr;
  }
  // Quiet NOTICEs ("relation already exists, skipping") so they do not reach stderr as plain text.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

struct Conn {
  PGconn* pg = nullptr;
  bool in_transaction = false;
  // Statements prepared on this session, by SQL text and parameter types: the role stores run a
  // fixed set of statements, and parsing and planning one again for every check-in cost
  // PostgreSQL more than running it (bench/scale-out). Lost with the session (PQreset).
  std::unordered_map<std::string, std::string> prepared;
  uint64_t next_statement = 0;
};
constexpr size_t kMaxPrepared = 512;

// The connection a thread holds for a Transaction body (or the migration lock), per database, so
// that the statements of that body run inside it.
struct Pin {
  const void* db;
  Conn* conn;
};
thread_local std::vector<Pin> t_pins;

// Listens on its own connection (a pooled one would be returned between statements, and a LISTEN
// belongs to the session that issued it), waking on the socket or on Stop's pipe.
class PgSubscription final : public SqlDatabase::Subscription {
 public:
  PgSubscription(std::string url, std::string channel,
                 std::function<void(const std::string&)> on_notify,
                 std::function<void()> on_reconnect)
      : url_(std::move(url)),
        channel_(std::move(channel)),
        on_notify_(std::move(on_notify)),
        on_reconnect_(std::move(on_reconnect)) {}

  ~PgSubscription() override {
    if (thread_.joinable()) {
      char b = 1;
      (void)!::write(wake_[1], &b, 1);
      thread_.join();
    }
    if (conn_ != nullptr) PQfinish(conn_);
    for (int fd : wake_)
      if (fd >= 0) ::close(fd);
  }

  Status Start() {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
      return Status::Internal("postgres listen: cannot make a pipe");
    MDMGW_RETURN_IF_ERROR(Open());
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

 private:
  Status Open() {
    std::string error;
    conn_ = Connect(url_, &error);
    if (conn_ == nullptr) return Status::Unavailable("postgres listen: " + error);
    char* quoted = PQescapeIdentifier(conn_, channel_.data(), channel_.size());
    if (quoted == nullptr) return Status::InvalidArgument("postgres listen: bad channel name");
    std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    PGresult* res = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
      std::string msg = Trimmed(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      return Status::Unavailable("postgres listen: " + msg);
    }
    return Status::Ok();
  }

  // false when Stop was asked for during the wait.
  bool Wait(int fd, int timeout_ms) {
    pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    return !(n > 0 && (fds[0].revents & POLLIN));
  }

  void Loop() {
    bool lost = false;
    while (true) {
      if (conn_ == nullptr) {
        if (!Wait(-1, 1000)) return;  // retry the connection once a second
        if (!Open().ok()) continue;
        if (lost) {
          lost = false;
          log::Info("store: change notifications listening again", {{"channel", channel_}});
          if (on_reconnect_) on_reconnect_();
        }
      }
      if (!Wait(PQsocket(conn_), 1000)) return;
      if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
        log::Warn("store: change notification connection lost; reconnecting",
                  {{"error", Trimmed(PQerrorMessage(conn_))}});
        PQfinish(conn_);
        conn_ = nullptr;
        lost = true;
        continue;
      }
      while (PGnotify* n = PQnotifies(conn_)) {
        std::string payload = n->extra != nullptr ? n->extra : "";
        PQfreemem(n);
        if (on_notify_) on_notify_(payload);
      }
    }
  }

  std::string url_;
  std::string channel_;
  std::function<void(const std::string&)> on_notify_;
  std::function<void()> on_reconnect_;
  PGconn* conn_ = nullptr;  // owned by the loop thread once it runs
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

// "$1" placeholders are PostgreSQL's own; the SQL passes through unchanged.
class PostgresDatabase final : public SqlDatabase {
 public:
  PostgresDatabase(std::string url, PostgresOptions options, PGconn* first)
      : url_(std::move(url)), options_(options) {
    all_.push_back(std::make_unique<Conn>());
    all_.back()->pg = first;
    idle_.push_back(all_.back().get());
    open_ = 1;
  }
  ~PostgresDatabase() override {
    for (auto& c : all_) PQfinish(c->pg);
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    Held held(this);
    MDMGW_RETURN_IF_ERROR(held.status);
    return Run(*held.conn, sql, params, nullptr);
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    Held held(this);
    if (!held.status.ok()) {
      NoteWrite(held.status);
      return held.status;
    }
    int64_t changes = 0;
    auto r = Run(*held.conn, sql, params, &changes);
    NoteWrite(r.status());
    if (!r.ok()) return r.status();
    return changes;
  }

  Status Transaction(const std::function<Status()>& body) override {
    Held held(this);
    if (!held.status.ok()) {
      NoteWrite(held.status);
      return held.status;
    }
    Conn& c = *held.conn;
    if (c.in_transaction) return body();  // nested: part of the transaction under way
    PinGuard pin(this, &c);
    Status begun = Script(c, "BEGIN");
    if (!begun.ok()) {
      NoteWrite(begun);
      return begun;
    }
    c.in_transaction = true;
    Status s = body();
    c.in_transaction = false;
    if (s.ok()) {
      s = Script(c, "COMMIT");
      NoteWrite(s);
      if (s.ok()) return s;
    }
    (void)Script(c, "ROLLBACK");
    return s;
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }
  std::string_view backend() const override { return "postgres"; }
  std::string_view NowMillisSql() const override {
    // clock_timestamp(), not now(): now() is frozen at the start of the transaction.
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
  }

  Status Notify(std::string_view channel, std::string_view payload) override {
    return Query("SELECT pg_notify($1, $2)", {std::string(channel), std::string(payload)}).status();
  }

  Result<std::unique_ptr<Subscription>> Listen(const std::string& channel,
                                               std::function<void(const std::string&)> on_notify,
                                               std::function<void()> on_reconnect) override {
    auto sub = std::make_unique<PgSubscription>(url_, channel, std::move(on_notify),
                                                std::move(on_reconnect));
    MDMGW_RETURN_IF_ERROR(sub->Start());
    return std::unique_ptr<Subscription>(std::move(sub));
  }

 protected:
  Status ExecScript(std::string_view sql) override {
    Held held(this);
    MDMGW_RETURN_IF_ERROR(held.status);
    return Script(*held.conn, sql);
  }

  Status WithMigrationLock(const std::function<Status()>& body) override {
    Held held(this);
    MDMGW_RETURN_IF_ERROR(held.status);
    PinGuard pin(this, held.conn);
    // A session lock: held across the migrations' own transactions, released by the unlock below
    // or by the server when this connection ends (a gateway killed mid-migration).
    auto locked = Run(*held.conn, "SELECT pg_advisory_lock($1)", {kMigrationLockKey}, nullptr);
    if (!locked.ok()) return locked.status().WithContext("waiting for the migration lock");
    Status s = body();
    (void)Run(*held.conn, "SELECT pg_advisory_unlock($1)", {kMigrationLockKey}, nullptr);
    return s;
  }

 private:
  // A connection for one statement or transaction: the thread's pinned one, else one from the
  // pool, returned on destruction.
  struct Held {
    explicit Held(PostgresDatabase* db) : db(db) { status = db->Acquire(&conn, &owned); }
    ~Held() {
      if (owned) db->Release(conn);
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    PostgresDatabase* db;
    Conn* conn = nullptr;
    bool owned = false;
    Status status;
  };
  struct PinGuard {
    PinGuard(const PostgresDatabase* db, Conn* conn) {
      for (const Pin& p : t_pins)
        if (p.db == db) return;  // already pinned further up this thread's stack
      t_pins.push_back({db, conn});
      pushed = true;
    }
    ~PinGuard() {
      if (pushed) t_pins.pop_back();
    }
    PinGuard(const PinGuard&) = delete;
    PinGuard& operator=(const PinGuard&) = delete;
    bool pushed = false;
  };

  Status Acquire(Conn** out, bool* owned) {
    for (const Pin& p : t_pins) {
      if (p.db == this) {
        *out = p.conn;
        *owned = false;
        return Status::Ok();
      }
    }
    std::unique_lock lock(pool_mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    while (true) {
      if (!idle_.empty()) {
        *out = idle_.back();
        idle_.pop_back();
        *owned = true;
        return Status::Ok();
      }
      if (open_ < options_.max_connections) {
        ++open_;
        lock.unlock();
        std::string error;
        PGconn* pg = Connect(url_, &error);
        lock.lock();
        if (pg == nullptr) {
          --open_;
          pool_cv_.notify_one();
          return Status::Unavailable("postgres: " + error);
        }
        all_.push_back(std::make_unique<Conn>());
        all_.back()->pg = pg;
        *out = all_.back().get();
        *owned = true;
        return Status::Ok();
      }
      if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty()) {
        return Status::Unavailable("postgres: all " + std::to_string(options_.max_connections) +
                                       " connections of this instance were busy for " +
                                       std::to_string(options_.acquire_timeout.count()) +
                                       " ms ([store] max_connections)",
                                   "store_busy");
      }
    }
  }

  void Release(Conn* conn) {
    {
      std::lock_guard lock(pool_mu_);
      idle_.push_back(conn);
    }
    pool_cv_.notify_one();
  }

  // A dropped connection (server restart) is re-established once, outside transactions only.
  static Status EnsureConnected(Conn& c) {
    if (PQstatus(c.pg) == CONNECTION_OK) return Status::Ok();
    if (c.in_transaction)
      return Status::Unavailable("postgres: connection lost inside a transaction");
    PQreset(c.pg);
    c.prepared.clear();  // a new session: nothing is prepared on it
    c.next_statement = 0;
    if (PQstatus(c.pg) != CONNECTION_OK) {
      return Status::Unavailable("postgres: " + Trimmed(PQerrorMessage(c.pg)));
    }
    return Status::Ok();
  }

  static Status Script(Conn& c, std::string_view sql) {
    MDMGW_RETURN_IF_ERROR(EnsureConnected(c));
    std::string text(sql);
    PGresult* res = PQexec(c.pg, text.c_str());
    Status s = CheckResult(c, res);
    PQclear(res);
    return s;
  }

  static Status CheckResult(Conn& c, PGresult* res) {
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    std::string msg = "postgres: " + Trimmed(PQerrorMessage(c.pg));
    const char* sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string state = sqlstate ? sqlstate : "";
    if (state == "23505") return Status::AlreadyExists(msg);
    if (state.rfind("08", 0) == 0 || PQstatus(c.pg) != CONNECTION_OK)
      return Status::Unavailable(msg);
    if (state == "40001" || state == "40P01" || state == "55P03") return Status::Unavailable(msg);
    // Storage trouble: 53xxx insufficient resources (53100 disk full), 58xxx system / I/O errors,
    // 25006 a read-only transaction (a hot standby, or default_transaction_read_only).
    if (state.rfind("53", 0) == 0 || state.rfind("58", 0) == 0 || state == "25006") {
      return Status::Unavailable(msg);
    }
    return Status::InvalidArgument(msg);
  }

  static Result<std::vector<SqlRow>> Run(Conn& c, std::string_view sql,
                                         const std::vector<SqlValue>& params, int64_t* changes) {
    MDMGW_RETURN_IF_ERROR(EnsureConnected(c));
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) continue;  // NULL
      if (auto* n = std::get_if<int64_t>(&v)) {
        text[i] = std::to_string(*n);
        types[i] = kInt8Oid;
      } else if (auto* s = std::get_if<std::string>(&v)) {
        text[i] = *s;
      } else {
        text[i] = std::get<Blob>(v).bytes;
        formats[i] = 1;  // binary: bytes go as they are
        types[i] = kByteaOid;
      }
      values[i] = text[i].data();
      lengths[i] = static_cast<int>(text[i].size());
    }
    // The parameter types are part of the key: a statement prepared with a NULL (untyped) first
    // parameter must not serve a call that passes an int8 there.
    std::string key(sql);
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(types.data()), types.size() * sizeof(Oid));
    std::unique_ptr<PGresult, decltype(&PQclear)> guard(nullptr, PQclear);
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto name = Prepared(c, key, sql, types);
      if (!name.ok()) return name.status();
      guard.reset(PQexecPrepared(c.pg, name->c_str(), static_cast<int>(params.size()),
                                 values.data(), lengths.data(), formats.data(), 0));
      // A table changed under a prepared statement (another instance migrated while this one
      // ran): prepare it again, once.
      const char* state = PQresultErrorField(guard.get(), PG_DIAG_SQLSTATE);
      if (attempt == 0 && state != nullptr && std::string_view(state) == "0A000" &&
          !c.in_transaction) {
        Forget(c, key);
        continue;
      }
      break;
    }
    PGresult* res = guard.get();
    MDMGW_RETURN_IF_ERROR(CheckResult(c, res));
    if (changes != nullptr) {
      const char* tuples = PQcmdTuples(res);
      *changes = (tuples && *tuples) ? std::stoll(tuples) : 0;
    }
    std::vector<SqlRow> rows;
    int nrows = PQntuples(res);
    int ncols = PQnfields(res);
    rows.reserve(static_cast<size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      SqlRow row;
      row.reserve(static_cast<size_t>(ncols));
      for (int col = 0; col < ncols; ++col) {
        if (PQgetisnull(res, r, col)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        std::string_view cell(PQgetvalue(res, r, col),
                              static_cast<size_t>(PQgetlength(res, r, col)));
        Oid type = PQftype(res, col);
        if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
          row.emplace_back(static_cast<int64_t>(std::stoll(std::string(cell))));
        } else if (type == kBoolOid) {
          row.emplace_back(static_cast<int64_t>(cell == "t" ? 1 : 0));
        } else if (type == kByteaOid) {
          // Text-format bytea is "\x" + hex (bytea_output = hex, the default since 9.0).
          if (cell.size() < 2 || cell.substr(0, 2) != "\\x") {
            return Status::DataLoss("postgres: unexpected bytea encoding");
          }
          auto bytes = HexDecode(cell.substr(2));
          if (!bytes.ok()) return Status::DataLoss("postgres: bad bytea hex");
          row.emplace_back(Blob{std::move(bytes).value()});
        } else {
          row.emplace_back(std::string(cell));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // The name |key|'s statement is prepared under on |c|, preparing it first when needed.
  static Result<std::string> Prepared(Conn& c, const std::string& key, std::string_view sql,
                                      const std::vector<Oid>& types) {
    if (auto it = c.prepared.find(key); it != c.prepared.end()) return it->second;
    if (c.prepared.size() >= kMaxPrepared) {
      PQclear(PQexec(c.pg, "DEALLOCATE ALL"));
      c.prepared.clear();
    }
    std::string name = "mdmgw_" + std::to_string(++c.next_statement);
    std::string text(sql);
    PGresult* res =
        PQprepare(c.pg, name.c_str(), text.c_str(), static_cast<int>(types.size()), types.data());
    Status s = CheckResult(c, res);
    PQclear(res);
    if (!s.ok()) return s;
    c.prepared.emplace(key, name);
    return name;
  }
  static void Forget(Conn& c, const std::string& key) {
    auto it = c.prepared.find(key);
    if (it == c.prepared.end()) return;
    std::string sql = "DEALLOCATE " + it->second;
    PQclear(PQexec(c.pg, sql.c_str()));
    c.prepared.erase(it);
  }

  const std::string url_;
  const PostgresOptions options_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> all_;  // GUARDED_BY(pool_mu_); pointers stay valid
  std::vector<Conn*> idle_;                 // GUARDED_BY(pool_mu_)
  int open_ = 0;                            // GUARDED_BY(pool_mu_), opening ones included
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenPostgres(const std::string& url,
                                                  const PostgresOptions& options) {
  if (options.max_connections < 1)
    return Status::InvalidArgument("postgres: max_connections must be at least 1");
  std::string error;
  PGconn* conn = Connect(url, &error);
  if (conn == nullptr) return Status::Unavailable("cannot connect to PostgreSQL: " + error);
  return std::unique_ptr<SqlDatabase>(new PostgresDatabase(url, options, conn));
}

}  // namespace mdmgw::store

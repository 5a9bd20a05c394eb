#include "store/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <mutex>

#include "common/encoding.h"

namespace mdmgw::store {
namespace {

// Type OIDs from PostgreSQL's pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// "$1" placeholders are PostgreSQL's own; the SQL passes through unchanged.
class PostgresDatabase final : public SqlDatabase {
 public:
  PostgresDatabase(std::string url, PGconn* conn) : url_(std::move(url)), conn_(conn) {}
  ~PostgresDatabase() override { PQfinish(conn_); }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    std::lock_guard lock(mu_);
    return Run(sql, params, nullptr);
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::lock_guard lock(mu_);
    int64_t changes = 0;
    auto r = Run(sql, params, &changes);
    NoteWrite(r.status());
    if (!r.ok()) return r.status();
    return changes;
  }

  Status Transaction(const std::function<Status()>& body) override {
    std::lock_guard lock(mu_);
    Status begun = ExecScript("BEGIN");
    if (!begun.ok()) {
      NoteWrite(begun);
      return begun;
    }
    in_transaction_ = true;
    Status s = body();
    in_transaction_ = false;
    if (s.ok()) {
      s = ExecScript("COMMIT");
      NoteWrite(s);
      if (s.ok()) return s;
    }
    (void)ExecScript("ROLLBACK");
    return s;
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }
  std::string_view backend() const override { return "postgres"; }

 protected:
  Status ExecScript(std::string_view sql) override {
    std::lock_guard lock(mu_);
    MDMGW_RETURN_IF_ERROR(EnsureConnected());
    std::string text(sql);
    PGresult* res = PQexec(conn_, text.c_str());
    Status s = CheckResult(res);
    PQclear(res);
    return s;
  }

 private:
  // A dropped connection (server restart) is re-established once, outside transactions only.
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    if (in_transaction_)
      return Status::Unavailable("postgres: connection lost inside a transaction");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status::Unavailable(std::string("postgres: ") + PQerrorMessage(conn_));
    }
    return Status::Ok();
  }

  Status CheckResult(PGresult* res) {
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    std::string msg = std::string("postgres: ") + PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    const char* sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string state = sqlstate ? sqlstate : "";
    if (state == "23505") return Status::AlreadyExists(msg);
    if (state.rfind("08", 0) == 0 || PQstatus(conn_) != CONNECTION_OK)
      return Status::Unavailable(msg);
    if (state == "40001" || state == "40P01" || state == "55P03") return Status::Unavailable(msg);
    // Storage trouble: 53xxx insufficient resources (53100 disk full), 58xxx system / I/O errors,
    // 25006 a read-only transaction (a hot standby, or default_transaction_read_only).
    if (state.rfind("53", 0) == 0 || state.rfind("58", 0) == 0 || state == "25006") {
      return Status::Unavailable(msg);
    }
    return Status::InvalidArgument(msg);
  }

  Result<std::vector<SqlRow>> Run(std::string_view sql, const std::vector<SqlValue>& params,
                                  int64_t* changes) {
    MDMGW_RETURN_IF_ERROR(EnsureConnected());
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
    std::string statement(sql);
    PGresult* res = PQexecParams(conn_, statement.c_str(), static_cast<int>(params.size()),
                                 types.data(), values.data(), lengths.data(), formats.data(), 0);
    std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
    MDMGW_RETURN_IF_ERROR(CheckResult(res));
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
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        std::string_view cell(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c)));
        Oid type = PQftype(res, c);
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

  std::string url_;
  PGconn* conn_;
  std::recursive_mutex mu_;
  bool in_transaction_ = false;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenPostgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(conn);
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  // Quiet NOTICEs ("relation already exists, skipping") so they do not reach stderr as plain text.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlDatabase>(new PostgresDatabase(url, conn));
}

}  // namespace mdmgw::store

#include "store/sql_database.h"

#include "common/log.h"

namespace mdmgw::store {

int64_t AsInt(const SqlValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* s = std::get_if<std::string>(&v)) {
    try {
      return std::stoll(*s);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string AsText(const SqlValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<Blob>(&v)) return b->bytes;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return "";
}

bool IsNull(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

Result<int> SqlDatabase::SchemaVersion() {
  auto rows = Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows.ok()) return rows.status();
  return static_cast<int>(AsInt(rows.value().at(0).at(0)));
}

Status SqlDatabase::Notify(std::string_view, std::string_view) { return Status::Ok(); }

Result<std::unique_ptr<SqlDatabase::Subscription>> SqlDatabase::Listen(
    const std::string&, std::function<void(const std::string&)>, std::function<void()>) {
  return std::unique_ptr<Subscription>();
}

Result<int> SqlDatabase::Migrate(const std::vector<Migration>& migrations) {
  Result<int> result = 0;
  Status locked = WithMigrationLock([&]() -> Status {
    result = MigrateLocked(migrations);
    return result.status();
  });
  if (!locked.ok()) return locked;
  return result;
}

Result<int> SqlDatabase::MigrateLocked(const std::vector<Migration>& migrations) {
  auto created = Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  if (!created.ok()) return created.status().WithContext("creating schema_migrations");
  auto current = SchemaVersion();
  if (!current.ok()) return current.status();
  int version = current.value();
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (version > latest) {
    return Status::FailedPrecondition("database schema is version " + std::to_string(version) +
                                      ", newer than this binary knows (" + std::to_string(latest) +
                                      "); upgrade mdm-gateway");
  }
  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    Status s = Transaction([&]() -> Status {
      // Another instance may have applied it meanwhile (several gateways on one PostgreSQL).
      auto again = SchemaVersion();
      if (!again.ok()) return again.status();
      if (again.value() >= m.version) return Status::Ok();
      MDMGW_RETURN_IF_ERROR(ExecScript(m.sql));
      auto rec =
          Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
               {int64_t{m.version}, m.name,
                int64_t{std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count()}});
      return rec.status();
    });
    if (!s.ok())
      return s.WithContext("migration " + std::to_string(m.version) + " (" + m.name + ")");
    log::Info("migration applied",
              {{"backend", backend()}, {"version", m.version}, {"name", m.name}});
    version = m.version;
  }
  return version;
}

}  // namespace mdmgw::store

namespace mdmgw::store {

std::optional<std::string> SqlDatabase::LastWriteFailure() const {
  if (!write_failed_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(write_mu_);
  if (!write_failed_.load(std::memory_order_relaxed)) return std::nullopt;
  return write_failure_;
}

void SqlDatabase::NoteWrite(const Status& outcome) {
  // The hot path (every check-in write) returns here.
  if (outcome.ok() || outcome.code() != StatusCode::kUnavailable) return;
  std::lock_guard lock(write_mu_);
  if (!write_failed_.load(std::memory_order_relaxed)) {
    log::Error("store write failed",
               {{"backend", std::string(backend())}, {"error", outcome.message()}});
  }
  write_failure_ = outcome.message();
  write_failed_.store(true, std::memory_order_release);
}

void SqlDatabase::ClearWriteFailure() {
  std::lock_guard lock(write_mu_);
  if (!write_failed_.load(std::memory_order_relaxed)) return;
  write_failed_.store(false, std::memory_order_release);
  write_failure_.clear();
  log::Info("store writes succeed again", {{"backend", std::string(backend())}});
}

}  // namespace mdmgw::store

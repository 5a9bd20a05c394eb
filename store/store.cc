#include "store/store.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "common/encoding.h"
#include "common/random.h"
#include "store/migrations.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace mdmgw::store {

namespace {

std::string MakeInstanceId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, 8, "host");
  // The random part tells a restarted process (same host, maybe the same pid) from its earlier
  // life, whose leases it must not inherit.
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + HexEncode(RandomBytes(3));
}

}  // namespace

Store::Store(std::unique_ptr<SqlDatabase> db)
    : db_(std::move(db)), instance_id_(MakeInstanceId()) {}

Status Store::NotifyChange(std::string_view topic) {
  return db_->Notify(kChangeChannel, std::string(topic) + " " + instance_id_);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& url, const StoreOptions& options) {
  Result<std::unique_ptr<SqlDatabase>> db = Status::InvalidArgument("unsupported store URL");
  const std::vector<Migration>* migrations = nullptr;
  if (url.rfind("sqlite:", 0) == 0) {
    db = OpenSqlite(url.substr(7));
    migrations = &SqliteMigrations();
  } else if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    db = OpenPostgres(url, PostgresOptions{options.max_connections, options.acquire_timeout});
    migrations = &PostgresMigrations();
  } else {
    return Status::InvalidArgument("store URL '" + RedactStoreUrl(url) +
                                   "' is neither sqlite:PATH nor postgres://...");
  }
  if (!db.ok()) return db.status();
  auto version = db.value()->Migrate(*migrations);
  if (!version.ok()) return version.status();
  return std::make_unique<Store>(std::move(db).value());
}

Status Store::Ping() {
  MDMGW_RETURN_IF_ERROR(db_->Ping());
  if (!db_->LastWriteFailure()) return Status::Ok();
  // 16 KiB: more than a page, so the probe needs free space as a real write would; rolled back
  // by the delete in the same transaction, so the probe leaves nothing behind.
  Status probe = db_->Transaction([&]() -> Status {
    auto put = db_->Exec(
        "INSERT INTO store_probe (id, pad, at) VALUES (1, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET pad = excluded.pad, at = excluded.at",
        {Blob{std::string(16 << 10, '\x5a')}, static_cast<int64_t>(std::time(nullptr))});
    if (!put.ok()) return put.status();
    return db_->Exec("DELETE FROM store_probe").status();
  });
  if (!probe.ok())
    return Status::Unavailable("writes fail: " + probe.message(), "store_unavailable");
  db_->ClearWriteFailure();
  return Status::Ok();
}

std::string RedactStoreUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

}  // namespace mdmgw::store

#include "store/store.h"

#include "store/migrations.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace mdmgw::store {

Result<std::unique_ptr<Store>> Store::Open(const std::string& url) {
  Result<std::unique_ptr<SqlDatabase>> db = Status::InvalidArgument("unsupported store URL");
  const std::vector<Migration>* migrations = nullptr;
  if (url.rfind("sqlite:", 0) == 0) {
    db = OpenSqlite(url.substr(7));
    migrations = &SqliteMigrations();
  } else if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    db = OpenPostgres(url);
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

std::string RedactStoreUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

}  // namespace mdmgw::store

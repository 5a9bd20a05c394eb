#include "store/migrations.h"

namespace mdmgw::store {

const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      {1, "api keys and push certificate", R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  key_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
CREATE TABLE push_certificates (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  topic TEXT NOT NULL,
  cert_pem TEXT NOT NULL,
  sealed_key BLOB NOT NULL,
  not_after INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql"},
  };
  return *migrations;
}

}  // namespace mdmgw::store

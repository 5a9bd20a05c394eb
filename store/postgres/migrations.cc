#include "store/migrations.h"

namespace mdmgw::store {

const std::vector<Migration>& PostgresMigrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      {1, "api keys and push certificate", R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  key_hash BYTEA NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_used_at BIGINT
);
CREATE TABLE push_certificates (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  topic TEXT NOT NULL,
  cert_pem TEXT NOT NULL,
  sealed_key BYTEA NOT NULL,
  not_after BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
  };
  return *migrations;
}

}  // namespace mdmgw::store

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
      {2, "push certificate details, CSR key, enrollments", R"sql(
ALTER TABLE push_certificates ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE push_certificates ADD COLUMN serial TEXT NOT NULL DEFAULT '';
ALTER TABLE push_certificates ADD COLUMN not_before BIGINT NOT NULL DEFAULT 0;
ALTER TABLE push_certificates ADD COLUMN apple_id TEXT NOT NULL DEFAULT '';
CREATE TABLE apns_pending_csr (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  csr_pem TEXT NOT NULL,
  sealed_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE enrollments (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  type TEXT NOT NULL,
  topic TEXT NOT NULL,
  push_token TEXT NOT NULL,
  push_magic TEXT NOT NULL,
  token_updated_at_ms BIGINT NOT NULL,
  token_invalid_at_ms BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX enrollments_device_id ON enrollments (device_id);
)sql"},
      {3, "DEP servers", R"sql(
CREATE TABLE dep_servers (
  name TEXT PRIMARY KEY,
  base_url TEXT NOT NULL,
  sync_interval_seconds BIGINT NOT NULL,
  cert_pem TEXT NOT NULL,
  sealed_key BYTEA NOT NULL,
  consumer_key TEXT NOT NULL,
  sealed_token BYTEA NOT NULL,
  token_expiry BIGINT NOT NULL,
  token_uploaded_at BIGINT NOT NULL,
  server_uuid TEXT NOT NULL,
  server_name TEXT NOT NULL,
  org_name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
      {4, "DEP devices and sync state", R"sql(
CREATE TABLE dep_devices (
  server TEXT NOT NULL,
  serial TEXT NOT NULL,
  model TEXT NOT NULL,
  description TEXT NOT NULL,
  color TEXT NOT NULL,
  os TEXT NOT NULL,
  device_family TEXT NOT NULL,
  profile_status TEXT NOT NULL,
  profile_uuid TEXT NOT NULL,
  op_type TEXT NOT NULL,
  op_date BIGINT NOT NULL,
  deleted INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (server, serial)
);
CREATE TABLE dep_sync_state (
  server TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  phase TEXT NOT NULL,
  last_sync_at BIGINT NOT NULL,
  last_result TEXT NOT NULL
);
)sql"},
      {5, "DEP profiles, default profile, assignments, cursor age", R"sql(
ALTER TABLE dep_servers ADD COLUMN default_profile TEXT NOT NULL DEFAULT '';
ALTER TABLE dep_sync_state ADD COLUMN cursor_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE dep_profiles (
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  profile_uuid TEXT NOT NULL,
  definition TEXT NOT NULL,
  defined_at BIGINT NOT NULL,
  PRIMARY KEY (server, name)
);
CREATE TABLE dep_assignments (
  server TEXT NOT NULL,
  serial TEXT NOT NULL,
  profile_uuid TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  attempted_at BIGINT NOT NULL,
  retry_at BIGINT NOT NULL,
  PRIMARY KEY (server, serial)
);
)sql"},
      {6, "enrollment profiles", R"sql(
CREATE TABLE enrollment_profiles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
      {7, "Configurator serials and enrollment events", R"sql(
CREATE TABLE profile_serials (
  profile_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  details TEXT NOT NULL,
  PRIMARY KEY (profile_id, serial)
);
CREATE TABLE enrollment_events (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  event TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  method TEXT NOT NULL,
  serial TEXT NOT NULL,
  udid TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX enrollment_events_serial ON enrollment_events (serial);
)sql"},
      {8, "enrollment CA", R"sql(
CREATE TABLE enrollment_ca (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  cert_pem TEXT NOT NULL,
  sealed_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
)sql"},
      {9, "enrollment links (USB-Direct, OTA invitations, DEM)", R"sql(
CREATE TABLE enrollment_links (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  max_uses BIGINT NOT NULL,
  uses BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL
);
)sql"},
      {10, "groups (pilot roll-outs), DEP profile to enrollment profile", R"sql(
CREATE TABLE member_groups (
  name TEXT PRIMARY KEY,
  updated_at BIGINT NOT NULL
);
CREATE TABLE group_members (
  group_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (group_name, kind, value)
);
ALTER TABLE dep_profiles ADD COLUMN enrollment_profile TEXT NOT NULL DEFAULT '';
)sql"},
      {11, "check-in records: device details, identity binding, routing", R"sql(
ALTER TABLE enrollments ADD COLUMN status TEXT NOT NULL DEFAULT 'enrolled';
ALTER TABLE enrollments ADD COLUMN serial TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN os_version TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN user_short_name TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN awaiting_configuration BIGINT NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN sealed_unlock_token BYTEA;
ALTER TABLE enrollments ADD COLUMN enrollment_method TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN dep_server TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollments ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE device_identities (
  device_id TEXT PRIMARY KEY,
  cert_sha256 TEXT NOT NULL,
  cert_not_after BIGINT NOT NULL,
  bound_at BIGINT NOT NULL
);
CREATE INDEX device_identities_not_after ON device_identities (cert_not_after);
CREATE TABLE routing (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  document TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
      {12, "self-service enrollment portal branding", R"sql(
CREATE TABLE portal (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  document TEXT NOT NULL,
  logo BYTEA,
  logo_type TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);
)sql"},
      {13, "admin audit log; API key scopes; master key check", R"sql(
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  remote TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  route TEXT NOT NULL,
  status BIGINT NOT NULL,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
CREATE TABLE master_key_check (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sealed BYTEA NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
      {14, "store write probe (readiness after a failed write)", R"sql(
CREATE TABLE store_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pad BYTEA NOT NULL,
  at BIGINT NOT NULL
);
)sql"},
      {15, "leases (work that runs once across instances); shared DEP sync schedule", R"sql(
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  acquired_at_ms BIGINT NOT NULL
);
ALTER TABLE dep_sync_state ADD COLUMN next_sync_at BIGINT NOT NULL DEFAULT 0;
)sql"},
  };
  return *migrations;
}

}  // namespace mdmgw::store

// DepStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kColumns =
    "name, base_url, sync_interval_seconds, cert_pem, sealed_key, consumer_key, sealed_token, "
    "token_expiry, token_uploaded_at, server_uuid, server_name, org_name, created_at, updated_at, "
    "default_profile";

DepServerRecord FromRow(const SqlRow& row) {
  DepServerRecord r;
  r.name = AsText(row[0]);
  r.base_url = AsText(row[1]);
  r.sync_interval_seconds = AsInt(row[2]);
  r.cert_pem = AsText(row[3]);
  r.sealed_key = AsText(row[4]);
  r.consumer_key = AsText(row[5]);
  r.sealed_token = AsText(row[6]);
  r.token_expiry = AsInt(row[7]);
  r.token_uploaded_at = AsInt(row[8]);
  r.server_uuid = AsText(row[9]);
  r.server_name = AsText(row[10]);
  r.org_name = AsText(row[11]);
  r.created_at = AsInt(row[12]);
  r.updated_at = AsInt(row[13]);
  r.default_profile = AsText(row[14]);
  return r;
}

}  // namespace

Status Store::PutDepServer(const DepServerRecord& r) {
  return db_
      ->Exec(
          "INSERT INTO dep_servers (" + std::string(kColumns) +
              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
              " ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url,"
              " sync_interval_seconds = excluded.sync_interval_seconds,"
              " cert_pem = excluded.cert_pem, sealed_key = excluded.sealed_key,"
              " consumer_key = excluded.consumer_key, sealed_token = excluded.sealed_token,"
              " token_expiry = excluded.token_expiry,"
              " token_uploaded_at = excluded.token_uploaded_at,"
              " server_uuid = excluded.server_uuid, server_name = excluded.server_name,"
              " org_name = excluded.org_name, updated_at = excluded.updated_at",
          {r.name, r.base_url, r.sync_interval_seconds, r.cert_pem, Blob{r.sealed_key},
           r.consumer_key, Blob{r.sealed_token}, r.token_expiry, r.token_uploaded_at, r.server_uuid,
           r.server_name, r.org_name, r.created_at, r.updated_at, r.default_profile})
      .status();
}

Result<DepServerRecord> Store::GetDepServer(const std::string& name) {
  auto rows =
      db_->Query("SELECT " + std::string(kColumns) + " FROM dep_servers WHERE name = $1", {name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no DEP server named \"" + name + "\"");
  return FromRow(rows->front());
}

Result<std::vector<DepServerRecord>> Store::ListDepServers() {
  auto rows = db_->Query("SELECT " + std::string(kColumns) + " FROM dep_servers ORDER BY name");
  if (!rows.ok()) return rows.status();
  std::vector<DepServerRecord> out;
  for (const SqlRow& row : *rows) out.push_back(FromRow(row));
  return out;
}

Status Store::DeleteDepServer(const std::string& name) {
  // The server's devices, cursor, profiles and assignment history go with it.
  return db_->Transaction([&]() -> Status {
    auto r = db_->Exec("DELETE FROM dep_servers WHERE name = $1", {name});
    if (!r.ok()) return r.status();
    if (*r == 0) return Status::NotFound("no DEP server named \"" + name + "\"");
    for (const char* table : {"dep_devices", "dep_sync_state", "dep_profiles", "dep_assignments"}) {
      auto d = db_->Exec(std::string("DELETE FROM ") + table + " WHERE server = $1", {name});
      if (!d.ok()) return d.status();
    }
    return Status::Ok();
  });
}

Status Store::SetDepDefaultProfile(const std::string& server, const std::string& profile) {
  auto r =
      db_->Exec("UPDATE dep_servers SET default_profile = $2 WHERE name = $1", {server, profile});
  if (!r.ok()) return r.status();
  if (*r == 0) return Status::NotFound("no DEP server named \"" + server + "\"");
  return Status::Ok();
}

}  // namespace mdmgw::store

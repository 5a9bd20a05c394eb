// ApiKeyStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr const char* kColumns = "id, name, key_hash, created_at, revoked_at, last_used_at, scope";

ApiKeyRecord FromRow(const SqlRow& row) {
  ApiKeyRecord r;
  r.id = AsText(row[0]);
  r.name = AsText(row[1]);
  r.key_hash = AsText(row[2]);
  r.created_at = AsInt(row[3]);
  if (!IsNull(row[4])) r.revoked_at = AsInt(row[4]);
  if (!IsNull(row[5])) r.last_used_at = AsInt(row[5]);
  r.scope = AsText(row[6]);
  return r;
}

}  // namespace

Status Store::CreateApiKey(const ApiKeyRecord& record) {
  auto r = db_->Exec(
      "INSERT INTO api_keys (id, name, key_hash, created_at, scope) "
      "VALUES ($1, $2, $3, $4, $5)",
      {record.id, record.name, Blob{record.key_hash}, record.created_at, record.scope});
  if (r.status().IsAlreadyExists()) {
    return Status::AlreadyExists("an API key named '" + record.name + "' already exists",
                                 "name_taken");
  }
  return r.status();
}

Result<ApiKeyRecord> Store::FindApiKeyByHash(const std::string& key_hash) {
  auto rows = db_->Query(std::string("SELECT ") + kColumns + " FROM api_keys WHERE key_hash = $1",
                         {Blob{key_hash}});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no such API key");
  return FromRow(rows->front());
}

Result<std::vector<ApiKeyRecord>> Store::ListApiKeys() {
  auto rows =
      db_->Query(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY created_at, name");
  if (!rows.ok()) return rows.status();
  std::vector<ApiKeyRecord> out;
  for (const auto& row : *rows) out.push_back(FromRow(row));
  return out;
}

Status Store::RevokeApiKey(const std::string& name_or_id, int64_t now) {
  auto r = db_->Exec(
      "UPDATE api_keys SET revoked_at = $2 WHERE (name = $1 OR id = $1) AND revoked_at IS NULL",
      {name_or_id, now});
  if (!r.ok()) return r.status();
  if (r.value() == 0)
    return Status::NotFound("no active API key named or identified by '" + name_or_id + "'");
  return Status::Ok();
}

Status Store::TouchApiKey(const std::string& id, int64_t now) {
  return db_->Exec("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", {id, now}).status();
}

}  // namespace mdmgw::store

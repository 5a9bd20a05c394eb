// PushCertStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {

Result<PushCertRecord> Store::GetPushCert() {
  auto rows = db_->Query(
      "SELECT topic, cert_pem, sealed_key, not_after, updated_at FROM push_certificates WHERE id = "
      "1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no push certificate stored");
  const SqlRow& row = rows->front();
  return PushCertRecord{AsText(row[0]), AsText(row[1]), AsText(row[2]), AsInt(row[3]),
                        AsInt(row[4])};
}

Status Store::PutPushCert(const PushCertRecord& r) {
  // INSERT ... ON CONFLICT DO UPDATE is the same in SQLite (3.24+) and PostgreSQL (9.5+).
  return db_
      ->Exec(
          "INSERT INTO push_certificates (id, topic, cert_pem, sealed_key, not_after, updated_at)"
          " VALUES (1, $1, $2, $3, $4, $5)"
          " ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, cert_pem = excluded.cert_pem,"
          " sealed_key = excluded.sealed_key, not_after = excluded.not_after, updated_at = "
          "excluded.updated_at",
          {r.topic, r.cert_pem, Blob{r.sealed_key}, r.not_after, r.updated_at})
      .status();
}

Status Store::DeletePushCert() {
  auto r = db_->Exec("DELETE FROM push_certificates WHERE id = 1");
  if (!r.ok()) return r.status();
  if (r.value() == 0) return Status::NotFound("no push certificate stored");
  return Status::Ok();
}

}  // namespace mdmgw::store

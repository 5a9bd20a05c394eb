// PushCertStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {

Result<PushCertRecord> Store::GetPushCert() {
  auto rows = db_->Query(
      "SELECT topic, cert_pem, sealed_key, not_after, updated_at, subject, serial, not_before,"
      " apple_id FROM push_certificates WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no push certificate stored");
  const SqlRow& row = rows->front();
  PushCertRecord r;
  r.topic = AsText(row[0]);
  r.cert_pem = AsText(row[1]);
  r.sealed_key = AsText(row[2]);
  r.not_after = AsInt(row[3]);
  r.updated_at = AsInt(row[4]);
  r.subject = AsText(row[5]);
  r.serial = AsText(row[6]);
  r.not_before = AsInt(row[7]);
  r.apple_id = AsText(row[8]);
  return r;
}

Status Store::PutPushCert(const PushCertRecord& r) {
  // INSERT ... ON CONFLICT DO UPDATE is the same in SQLite (3.24+) and PostgreSQL (9.5+).
  return db_->Transaction([&]() -> Status {
    auto put = db_->Exec(
        "INSERT INTO push_certificates (id, topic, cert_pem, sealed_key, not_after, updated_at,"
        " subject, serial, not_before, apple_id)"
        " VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, cert_pem = excluded.cert_pem,"
        " sealed_key = excluded.sealed_key, not_after = excluded.not_after,"
        " updated_at = excluded.updated_at, subject = excluded.subject,"
        " serial = excluded.serial, not_before = excluded.not_before,"
        " apple_id = excluded.apple_id",
        {r.topic, r.cert_pem, Blob{r.sealed_key}, r.not_after, r.updated_at, r.subject, r.serial,
         r.not_before, r.apple_id});
    if (!put.ok()) return put.status();
    return NotifyChange(kPushCertTopic);
  });
}

Status Store::DeletePushCert() {
  return db_->Transaction([&]() -> Status {
    auto r = db_->Exec("DELETE FROM push_certificates WHERE id = 1");
    if (!r.ok()) return r.status();
    if (r.value() == 0) return Status::NotFound("no push certificate stored");
    return NotifyChange(kPushCertTopic);
  });
}

Result<PendingCsrRecord> Store::GetPendingCsr() {
  auto rows =
      db_->Query("SELECT csr_pem, sealed_key, created_at FROM apns_pending_csr WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no CSR has been generated");
  const SqlRow& row = rows->front();
  return PendingCsrRecord{AsText(row[0]), AsText(row[1]), AsInt(row[2])};
}

Status Store::PutPendingCsr(const PendingCsrRecord& r) {
  return db_
      ->Exec(
          "INSERT INTO apns_pending_csr (id, csr_pem, sealed_key, created_at) VALUES (1, $1, $2, "
          "$3)"
          " ON CONFLICT (id) DO UPDATE SET csr_pem = excluded.csr_pem,"
          " sealed_key = excluded.sealed_key, created_at = excluded.created_at",
          {r.csr_pem, Blob{r.sealed_key}, r.created_at})
      .status();
}

Status Store::DeletePendingCsr() {
  return db_->Exec("DELETE FROM apns_pending_csr WHERE id = 1").status();
}

}  // namespace mdmgw::store

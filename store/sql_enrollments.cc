// EnrollmentStore over SqlDatabase (portable SQL; both backends).
#include <algorithm>

#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kColumns =
    "id, device_id, type, topic, push_token, push_magic, token_updated_at_ms, "
    "token_invalid_at_ms, created_at, updated_at";

EnrollmentRecord FromRow(const SqlRow& row) {
  EnrollmentRecord r;
  r.id = AsText(row[0]);
  r.device_id = AsText(row[1]);
  r.type = AsText(row[2]);
  r.topic = AsText(row[3]);
  r.push_token_hex = AsText(row[4]);
  r.push_magic = AsText(row[5]);
  r.token_updated_at_ms = AsInt(row[6]);
  if (!IsNull(row[7])) r.token_invalid_at_ms = AsInt(row[7]);
  r.created_at = AsInt(row[8]);
  r.updated_at = AsInt(row[9]);
  return r;
}

// Both engines accept far more, but a bounded IN list keeps statements cacheable and small.
constexpr size_t kIdsPerQuery = 500;

}  // namespace

Status Store::PutEnrollment(const EnrollmentRecord& r) {
  // A changed token clears the invalid mark; the same token keeps it (a re-sent TokenUpdate with
  // the token APNs already refused is still refused).
  return db_
      ->Exec(
          "INSERT INTO enrollments (id, device_id, type, topic, push_token, push_magic,"
          " token_updated_at_ms, token_invalid_at_ms, created_at, updated_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)"
          " ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, type = excluded.type,"
          " topic = excluded.topic, push_magic = excluded.push_magic,"
          " token_updated_at_ms = excluded.token_updated_at_ms,"
          " token_invalid_at_ms = CASE WHEN enrollments.push_token = excluded.push_token"
          " THEN enrollments.token_invalid_at_ms ELSE NULL END,"
          " push_token = excluded.push_token, updated_at = excluded.updated_at",
          {r.id, r.device_id, r.type, r.topic, r.push_token_hex, r.push_magic,
           r.token_updated_at_ms, r.created_at, r.updated_at})
      .status();
}

Result<EnrollmentRecord> Store::GetEnrollment(const std::string& id) {
  auto rows = db_->Query(
      std::string("SELECT ") + std::string(kColumns) + " FROM enrollments WHERE id = $1", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no enrollment with id " + id);
  return FromRow(rows->front());
}

Result<std::vector<EnrollmentRecord>> Store::GetEnrollments(const std::vector<std::string>& ids) {
  std::vector<EnrollmentRecord> out;
  out.reserve(ids.size());
  for (size_t start = 0; start < ids.size(); start += kIdsPerQuery) {
    size_t end = std::min(ids.size(), start + kIdsPerQuery);
    std::string sql =
        std::string("SELECT ") + std::string(kColumns) + " FROM enrollments WHERE id IN (";
    std::vector<SqlValue> params;
    params.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      if (i > start) sql += ", ";
      sql += "$" + std::to_string(i - start + 1);
      params.emplace_back(ids[i]);
    }
    sql += ")";
    auto rows = db_->Query(sql, params);
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) out.push_back(FromRow(row));
  }
  return out;
}

Result<std::vector<EnrollmentRecord>> Store::ListEnrollments(const std::string& after, int limit) {
  auto rows = db_->Query(std::string("SELECT ") + std::string(kColumns) +
                             " FROM enrollments WHERE id > $1 ORDER BY id LIMIT $2",
                         {after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<EnrollmentRecord> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(FromRow(row));
  return out;
}

Result<bool> Store::MarkPushTokenInvalid(const std::string& id, int64_t apns_timestamp_ms) {
  auto changed = db_->Exec(
      "UPDATE enrollments SET token_invalid_at_ms = $2 WHERE id = $1 AND token_updated_at_ms < $2",
      {id, apns_timestamp_ms});
  if (!changed.ok()) return changed.status();
  if (*changed > 0) return true;
  auto exists = GetEnrollment(id);
  if (!exists.ok()) return exists.status();
  return false;
}

}  // namespace mdmgw::store

// EnrollmentStore over SqlDatabase (portable SQL; both backends).
#include <algorithm>

#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kColumns =
    "id, device_id, type, topic, push_token, push_magic, token_updated_at_ms, "
    "token_invalid_at_ms, created_at, updated_at, status, serial, model, os_version, device_name, "
    "user_id, user_short_name, awaiting_configuration, sealed_unlock_token, enrollment_method, "
    "dep_server, last_seen_at";

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
  r.status = AsText(row[10]);
  r.serial = AsText(row[11]);
  r.model = AsText(row[12]);
  r.os_version = AsText(row[13]);
  r.device_name = AsText(row[14]);
  r.user_id = AsText(row[15]);
  r.user_short_name = AsText(row[16]);
  r.awaiting_configuration = AsInt(row[17]) != 0;
  if (!IsNull(row[18])) r.sealed_unlock_token = AsText(row[18]);
  r.enrollment_method = AsText(row[19]);
  r.dep_server = AsText(row[20]);
  r.last_seen_at = AsInt(row[21]);
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

Status Store::RecordAuthenticate(const EnrollmentRecord& d, const DeviceIdentityRecord& identity) {
  return db_->Transaction([&]() -> Status {
    MDMGW_RETURN_IF_ERROR(PutDeviceIdentity(identity));
    // How the device came: the newest profile the gateway served to its UDID or serial.
    std::string method;
    auto served = db_->Query(
        "SELECT method FROM enrollment_events WHERE event = 'profile_served' AND"
        " ((udid <> '' AND udid = $1) OR (serial <> '' AND serial = $2)) ORDER BY id DESC LIMIT 1",
        {d.device_id, d.serial});
    if (!served.ok()) return served.status();
    if (!served->empty()) method = AsText(served->front()[0]);
    std::string dep_server;
    if (!d.serial.empty()) {
      auto dep = db_->Query(
          "SELECT server FROM dep_devices WHERE serial = $1 AND deleted = 0 ORDER BY server LIMIT "
          "1",
          {d.serial});
      if (!dep.ok()) return dep.status();
      if (!dep->empty()) dep_server = AsText(dep->front()[0]);
    }
    if (method.empty() && !dep_server.empty()) method = "dep";
    return db_
        ->Exec(
            "INSERT INTO enrollments (id, device_id, type, topic, push_token, push_magic,"
            " token_updated_at_ms, token_invalid_at_ms, created_at, updated_at, status, serial,"
            " model, os_version, device_name, enrollment_method, dep_server, last_seen_at)"
            " VALUES ($1, $2, $3, $4, '', '', 0, NULL, $5, $5, 'authenticated', $6, $7, $8, $9,"
            " $10, $11, $5)"
            " ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, type = excluded.type,"
            " topic = excluded.topic, updated_at = excluded.updated_at, status = 'authenticated',"
            " serial = excluded.serial, model = excluded.model, os_version = excluded.os_version,"
            " device_name = excluded.device_name,"
            " enrollment_method = CASE WHEN excluded.enrollment_method = ''"
            " THEN enrollments.enrollment_method ELSE excluded.enrollment_method END,"
            " dep_server = excluded.dep_server, last_seen_at = excluded.last_seen_at",
            {d.id, d.device_id, d.type, d.topic, d.updated_at, d.serial, d.model, d.os_version,
             d.device_name, method, dep_server})
        .status();
  });
}

Status Store::RecordTokenUpdate(const EnrollmentRecord& r) {
  SqlValue unlock = r.sealed_unlock_token ? SqlValue(Blob{*r.sealed_unlock_token}) : SqlValue();
  // A user channel takes the device channel's details (serial, method) for the device list. A
  // device channel is its own row (an upsert keeps its details), so it needs no read: one
  // statement, the hot path of every TokenUpdate.
  bool user_channel = r.id != r.device_id;
  auto Upsert = [&](const std::vector<SqlValue>& device) -> Status {
    return db_
        ->Exec(
            "INSERT INTO enrollments (id, device_id, type, topic, push_token, push_magic,"
            " token_updated_at_ms, token_invalid_at_ms, created_at, updated_at, status, serial,"
            " model, os_version, device_name, user_id, user_short_name, awaiting_configuration,"
            " sealed_unlock_token, enrollment_method, dep_server, last_seen_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $8, 'enrolled', $13, $14, $15, $16,"
            " $9, $10, $11, $12, $17, $18, $8)"
            " ON CONFLICT (id) DO UPDATE SET type = excluded.type, topic = excluded.topic,"
            " push_magic = excluded.push_magic,"
            " token_updated_at_ms = excluded.token_updated_at_ms,"
            " token_invalid_at_ms = CASE WHEN enrollments.push_token = excluded.push_token"
            " THEN enrollments.token_invalid_at_ms ELSE NULL END,"
            " push_token = excluded.push_token, updated_at = excluded.updated_at,"
            " status = 'enrolled', user_id = excluded.user_id,"
            " user_short_name = excluded.user_short_name,"
            " awaiting_configuration = excluded.awaiting_configuration,"
            " sealed_unlock_token = COALESCE(excluded.sealed_unlock_token,"
            " enrollments.sealed_unlock_token), last_seen_at = excluded.last_seen_at",
            {r.id, r.device_id, r.type, r.topic, r.push_token_hex, r.push_magic,
             r.token_updated_at_ms, r.updated_at, r.user_id, r.user_short_name,
             int64_t{r.awaiting_configuration ? 1 : 0}, unlock, AsText(device[0]),
             AsText(device[1]), AsText(device[2]), AsText(device[3]), AsText(device[4]),
             AsText(device[5])})
        .status();
  };
  auto record = [&]() -> Status {
    std::vector<SqlValue> device(6, std::string());
    if (!user_channel) return Upsert(device);
    auto rows = db_->Query(
        "SELECT serial, model, os_version, device_name, enrollment_method, dep_server"
        " FROM enrollments WHERE id = $1",
        {r.device_id});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) device = rows->front();
    return Upsert(device);
  };
  return user_channel ? db_->Transaction(record) : record();
}

Status Store::RecordCheckOut(const std::string& id, int64_t at) {
  return db_
      ->Exec(
          "UPDATE enrollments SET status = 'checked_out', updated_at = $2, last_seen_at = $2"
          " WHERE id = $1 OR (device_id = $1 AND id LIKE $3)",
          {id, at, id + ":%"})
      .status();
}

Status Store::TouchEnrollment(const std::string& id, int64_t at) {
  return db_->Exec("UPDATE enrollments SET last_seen_at = $2 WHERE id = $1", {id, at}).status();
}

Result<DeviceIdentityRecord> Store::GetDeviceIdentity(const std::string& device_id) {
  auto rows = db_->Query(
      "SELECT device_id, cert_sha256, cert_not_after, bound_at FROM device_identities"
      " WHERE device_id = $1",
      {device_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no identity bound to device " + device_id);
  const SqlRow& row = rows->front();
  return DeviceIdentityRecord{AsText(row[0]), AsText(row[1]), AsInt(row[2]), AsInt(row[3])};
}

Status Store::PutDeviceIdentity(const DeviceIdentityRecord& i) {
  return db_
      ->Exec(
          "INSERT INTO device_identities (device_id, cert_sha256, cert_not_after, bound_at)"
          " VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET"
          " cert_sha256 = excluded.cert_sha256, cert_not_after = excluded.cert_not_after,"
          " bound_at = excluded.bound_at",
          {i.device_id, i.cert_sha256, i.cert_not_after, i.bound_at})
      .status();
}

Result<std::vector<DeviceIdentityRecord>> Store::ListExpiredIdentities(int64_t not_after_before,
                                                                       int limit) {
  auto rows = db_->Query(
      "SELECT device_id, cert_sha256, cert_not_after, bound_at FROM device_identities"
      " WHERE cert_not_after < $1 ORDER BY cert_not_after, device_id LIMIT $2",
      {not_after_before, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<DeviceIdentityRecord> out;
  for (const SqlRow& row : *rows) {
    out.push_back({AsText(row[0]), AsText(row[1]), AsInt(row[2]), AsInt(row[3])});
  }
  return out;
}

Result<int64_t> Store::DeleteDevice(const std::string& device_id) {
  int64_t removed = 0;
  Status s = db_->Transaction([&]() -> Status {
    auto n = db_->Exec("DELETE FROM enrollments WHERE device_id = $1", {device_id});
    if (!n.ok()) return n.status();
    removed = *n;
    return db_->Exec("DELETE FROM device_identities WHERE device_id = $1", {device_id}).status();
  });
  if (!s.ok()) return s;
  return removed;
}

Result<std::string> Store::GetRouting() {
  auto rows = db_->Query("SELECT document FROM routing WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no routing set");
  return AsText(rows->front()[0]);
}

Status Store::PutRouting(const std::string& document, int64_t at) {
  return db_->Transaction([&]() -> Status {
    auto put = db_->Exec(
        "INSERT INTO routing (id, document, updated_at) VALUES (1, $1, $2)"
        " ON CONFLICT (id) DO UPDATE SET document = excluded.document,"
        " updated_at = excluded.updated_at",
        {document, at});
    if (!put.ok()) return put.status();
    return NotifyChange(kRoutingTopic);
  });
}

}  // namespace mdmgw::store

// DepStore devices and sync state over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kDeviceColumns =
    "server, serial, model, description, color, os, device_family, profile_status, "
    "profile_uuid, op_type, op_date, deleted, updated_at";

// A device "has a profile" when Apple (or our own recorded success) names one that is not removed.
constexpr std::string_view kHasProfile =
    "(d.profile_uuid <> '' AND d.profile_status NOT IN ('removed', 'empty'))";

// The assignment state of d (joined with its attempt a): see kDepAssignmentStates.
std::string StateExpr() {
  return "CASE WHEN " + std::string(kHasProfile) +
         " THEN (CASE WHEN d.profile_status = 'pushed' THEN 'pushed' ELSE 'assigned' END)"
         " WHEN a.status IN ('throttled', 'failed', 'not_accessible') THEN a.status"
         " ELSE 'unassigned' END";
}

DepDeviceRecord DeviceFromRow(const SqlRow& row) {
  DepDeviceRecord d;
  d.server = AsText(row[0]);
  d.serial = AsText(row[1]);
  d.model = AsText(row[2]);
  d.description = AsText(row[3]);
  d.color = AsText(row[4]);
  d.os = AsText(row[5]);
  d.device_family = AsText(row[6]);
  d.profile_status = AsText(row[7]);
  d.profile_uuid = AsText(row[8]);
  d.op_type = AsText(row[9]);
  d.op_date = AsInt(row[10]);
  d.deleted = AsInt(row[11]) != 0;
  d.updated_at = AsInt(row[12]);
  if (row.size() > 13) {
    d.assignment = AsText(row[13]);
    d.assign_profile_uuid = AsText(row[14]);
    d.assign_attempts = AsInt(row[15]);
    d.assign_attempted_at = AsInt(row[16]);
    d.assign_retry_at = AsInt(row[17]);
  }
  return d;
}

}  // namespace

Status Store::ApplyDepPage(const std::string& server, const std::vector<DepDeviceRecord>& devices,
                           const std::string& cursor, const std::string& phase, int64_t at,
                           const LeaseFence* fence) {
  static const std::string kUpsert =
      "INSERT INTO dep_devices (" + std::string(kDeviceColumns) +
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
      " ON CONFLICT (server, serial) DO UPDATE SET model = excluded.model,"
      " description = excluded.description, color = excluded.color, os = excluded.os,"
      " device_family = excluded.device_family, profile_status = excluded.profile_status,"
      " profile_uuid = excluded.profile_uuid, op_type = excluded.op_type,"
      " op_date = excluded.op_date, deleted = excluded.deleted, updated_at = excluded.updated_at"
      " WHERE excluded.op_date >= dep_devices.op_date";
  return db_->Transaction([&]() -> Status {
    // First: on PostgreSQL this locks the lease row, so no takeover can slip in before the commit.
    if (fence != nullptr) MDMGW_RETURN_IF_ERROR(CheckLeaseFence(*fence));
    for (const DepDeviceRecord& d : devices) {
      auto r = db_->Exec(kUpsert, {server, d.serial, d.model, d.description, d.color, d.os,
                                   d.device_family, d.profile_status, d.profile_uuid, d.op_type,
                                   d.op_date, int64_t{d.deleted ? 1 : 0}, d.updated_at});
      if (!r.ok()) return r.status();
    }
    return db_
        ->Exec(
            "INSERT INTO dep_sync_state (server, cursor, phase, last_sync_at, last_result,"
            " cursor_at) VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (server) DO UPDATE SET"
            " cursor = excluded.cursor, phase = excluded.phase, cursor_at = excluded.cursor_at",
            {server, cursor, phase, at})
        .status();
  });
}

Result<DepSyncState> Store::GetDepSyncState(const std::string& server) {
  auto rows = db_->Query(
      "SELECT cursor, phase, last_sync_at, last_result, cursor_at, next_sync_at FROM dep_sync_state"
      " WHERE server = $1",
      {server});
  if (!rows.ok()) return rows.status();
  DepSyncState s;
  s.phase = "fetch";
  if (rows->empty()) return s;
  const SqlRow& row = rows->front();
  s.cursor = AsText(row[0]);
  s.phase = AsText(row[1]);
  s.last_sync_at = AsInt(row[2]);
  s.last_result = AsText(row[3]);
  s.cursor_at = AsInt(row[4]);
  s.next_sync_at = AsInt(row[5]);
  return s;
}

Status Store::SetDepNextSyncAt(const std::string& server, int64_t at) {
  return db_
      ->Exec(
          "INSERT INTO dep_sync_state (server, cursor, phase, last_sync_at, last_result,"
          " next_sync_at) VALUES ($1, '', 'fetch', 0, '', $2) ON CONFLICT (server) DO UPDATE SET"
          " next_sync_at = excluded.next_sync_at",
          {server, at})
      .status();
}

Status Store::PutDepSyncResult(const std::string& server, int64_t at,
                               const std::string& result_json) {
  return db_
      ->Exec(
          "INSERT INTO dep_sync_state (server, cursor, phase, last_sync_at, last_result)"
          " VALUES ($1, '', 'fetch', $2, $3) ON CONFLICT (server) DO UPDATE SET"
          " last_sync_at = excluded.last_sync_at, last_result = excluded.last_result",
          {server, at, result_json})
      .status();
}

Result<std::vector<DepDeviceRecord>> Store::ListDepDevices(const std::string& server,
                                                           const std::string& after, int limit,
                                                           const std::string& state) {
  std::string columns;
  for (std::string_view rest = kDeviceColumns; !rest.empty();) {
    size_t comma = rest.find(", ");
    columns += (columns.empty() ? "d." : ", d.") + std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  std::string sql = "SELECT " + columns + ", " + StateExpr() +
                    ", COALESCE(a.profile_uuid, ''), COALESCE(a.attempts, 0),"
                    " COALESCE(a.attempted_at, 0), COALESCE(a.retry_at, 0)"
                    " FROM dep_devices d LEFT JOIN dep_assignments a"
                    " ON a.server = d.server AND a.serial = d.serial"
                    " WHERE d.server = $1 AND d.deleted = 0 AND d.serial > $2";
  std::vector<SqlValue> params = {server, after, static_cast<int64_t>(limit)};
  if (!state.empty()) {
    sql += " AND (" + StateExpr() + ") = $4";
    params.push_back(state);
  }
  sql += " ORDER BY d.serial LIMIT $3";
  auto rows = db_->Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<DepDeviceRecord> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(DeviceFromRow(row));
  return out;
}

Result<std::map<std::string, int64_t>> Store::CountDepDevicesByState(const std::string& server) {
  auto rows = db_->Query("SELECT " + StateExpr() +
                             " AS state, COUNT(*) FROM dep_devices d LEFT JOIN dep_assignments a"
                             " ON a.server = d.server AND a.serial = d.serial"
                             " WHERE d.server = $1 AND d.deleted = 0 GROUP BY 1",
                         {server});
  if (!rows.ok()) return rows.status();
  std::map<std::string, int64_t> out;
  for (const SqlRow& row : *rows) out[AsText(row[0])] = AsInt(row[1]);
  return out;
}

Status Store::RecordDepAssignments(const std::string& server,
                                   const std::vector<DepAssignmentRecord>& records) {
  static const std::string kUpsert =
      "INSERT INTO dep_assignments (server, serial, profile_uuid, status, attempts, attempted_at,"
      " retry_at) VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (server, serial) DO UPDATE SET"
      " profile_uuid = excluded.profile_uuid, status = excluded.status,"
      " attempts = dep_assignments.attempts + 1, attempted_at = excluded.attempted_at,"
      " retry_at = excluded.retry_at";
  return db_->Transaction([&]() -> Status {
    for (const DepAssignmentRecord& a : records) {
      auto r = db_->Exec(kUpsert,
                         {server, a.serial, a.profile_uuid, a.status, a.attempted_at, a.retry_at});
      if (!r.ok()) return r.status();
      if (a.status == "success" || a.status == "removed") {
        // Apple's next sync event for the device will say the same; until then, so do we.
        auto d = db_->Exec(
            "UPDATE dep_devices SET profile_uuid = $3, profile_status = $4"
            " WHERE server = $1 AND serial = $2",
            {server, a.serial, a.status == "success" ? a.profile_uuid : std::string(),
             std::string(a.status == "success" ? "assigned" : "removed")});
        if (!d.ok()) return d.status();
      }
    }
    return Status::Ok();
  });
}

Result<std::vector<std::string>> Store::ListDepDevicesToAssign(const std::string& server,
                                                               int64_t now,
                                                               const std::string& after,
                                                               int limit) {
  auto rows = db_->Query(
      "SELECT d.serial FROM dep_devices d LEFT JOIN dep_assignments a"
      " ON a.server = d.server AND a.serial = d.serial"
      " WHERE d.server = $1 AND d.deleted = 0 AND d.serial > $3 AND NOT " +
          std::string(kHasProfile) +
          " AND (a.serial IS NULL"
          " OR (a.status IN ('throttled', 'failed') AND a.retry_at <= $2)"
          " OR (a.status IN ('success', 'not_accessible') AND a.attempted_at < d.op_date))"
          " ORDER BY d.serial LIMIT $4",
      {server, now, after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(AsText(row[0]));
  return out;
}

Result<std::vector<std::string>> Store::ListDepSerialsWithProfile(const std::string& server,
                                                                  const std::string& profile_uuid,
                                                                  const std::string& after,
                                                                  int limit) {
  auto rows = db_->Query(
      "SELECT d.serial FROM dep_devices d WHERE d.server = $1 AND d.deleted = 0 AND"
      " d.profile_uuid = $2 AND d.profile_status NOT IN ('removed', 'empty') AND d.serial > $3"
      " ORDER BY d.serial LIMIT $4",
      {server, profile_uuid, after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(AsText(row[0]));
  return out;
}

Status Store::PutDepProfile(const DepProfileRecord& r) {
  return db_
      ->Exec(
          "INSERT INTO dep_profiles (server, name, profile_uuid, definition, defined_at,"
          " enrollment_profile) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (server, name)"
          " DO UPDATE SET profile_uuid = excluded.profile_uuid, definition = excluded.definition,"
          " defined_at = excluded.defined_at, enrollment_profile = excluded.enrollment_profile",
          {r.server, r.name, r.profile_uuid, r.definition, r.defined_at, r.enrollment_profile})
      .status();
}

namespace {
DepProfileRecord ProfileFromRow(const SqlRow& row) {
  DepProfileRecord p;
  p.server = AsText(row[0]);
  p.name = AsText(row[1]);
  p.profile_uuid = AsText(row[2]);
  p.definition = AsText(row[3]);
  p.defined_at = AsInt(row[4]);
  p.enrollment_profile = AsText(row[5]);
  return p;
}
}  // namespace

Result<DepProfileRecord> Store::GetDepProfile(const std::string& server, const std::string& name) {
  auto rows = db_->Query(
      "SELECT server, name, profile_uuid, definition, defined_at, enrollment_profile"
      " FROM dep_profiles"
      " WHERE server = $1 AND name = $2",
      {server, name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("no DEP profile \"" + name + "\" on server \"" + server + "\"",
                            "profile_not_found");
  }
  return ProfileFromRow(rows->front());
}

Result<std::vector<DepProfileRecord>> Store::ListDepProfiles(const std::string& server) {
  auto rows = db_->Query(
      "SELECT server, name, profile_uuid, definition, defined_at, enrollment_profile"
      " FROM dep_profiles"
      " WHERE server = $1 ORDER BY name",
      {server});
  if (!rows.ok()) return rows.status();
  std::vector<DepProfileRecord> out;
  for (const SqlRow& row : *rows) out.push_back(ProfileFromRow(row));
  return out;
}

Result<int64_t> Store::CountDepDevices(const std::string& server) {
  auto rows =
      db_->Query("SELECT COUNT(*) FROM dep_devices WHERE server = $1 AND deleted = 0", {server});
  if (!rows.ok()) return rows.status();
  return rows->empty() ? 0 : AsInt(rows->front()[0]);
}

}  // namespace mdmgw::store

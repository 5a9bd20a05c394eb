// DepStore devices and sync state over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kDeviceColumns =
    "server, serial, model, description, color, os, device_family, profile_status, "
    "profile_uuid, op_type, op_date, deleted, updated_at";

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
  return d;
}

}  // namespace

Status Store::ApplyDepPage(const std::string& server, const std::vector<DepDeviceRecord>& devices,
                           const std::string& cursor, const std::string& phase) {
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
    for (const DepDeviceRecord& d : devices) {
      auto r = db_->Exec(kUpsert, {server, d.serial, d.model, d.description, d.color, d.os,
                                   d.device_family, d.profile_status, d.profile_uuid, d.op_type,
                                   d.op_date, int64_t{d.deleted ? 1 : 0}, d.updated_at});
      if (!r.ok()) return r.status();
    }
    return db_
        ->Exec(
            "INSERT INTO dep_sync_state (server, cursor, phase, last_sync_at, last_result)"
            " VALUES ($1, $2, $3, 0, '') ON CONFLICT (server) DO UPDATE SET"
            " cursor = excluded.cursor, phase = excluded.phase",
            {server, cursor, phase})
        .status();
  });
}

Result<DepSyncState> Store::GetDepSyncState(const std::string& server) {
  auto rows = db_->Query(
      "SELECT cursor, phase, last_sync_at, last_result FROM dep_sync_state WHERE server = $1",
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
  return s;
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
                                                           const std::string& after, int limit) {
  auto rows = db_->Query("SELECT " + std::string(kDeviceColumns) +
                             " FROM dep_devices WHERE server = $1 AND deleted = 0 AND serial > $2"
                             " ORDER BY serial LIMIT $3",
                         {server, after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<DepDeviceRecord> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(DeviceFromRow(row));
  return out;
}

Result<int64_t> Store::CountDepDevices(const std::string& server) {
  auto rows =
      db_->Query("SELECT COUNT(*) FROM dep_devices WHERE server = $1 AND deleted = 0", {server});
  if (!rows.ok()) return rows.status();
  return rows->empty() ? 0 : AsInt(rows->front()[0]);
}

}  // namespace mdmgw::store

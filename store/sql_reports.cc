// ReportStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {

Result<std::vector<StalledEnrollment>> Store::ListStalledEnrollments(int64_t served_before,
                                                                     int limit) {
  auto rows = db_->Query(
      "SELECT e.at, e.profile_id, e.method, e.serial, e.udid FROM enrollment_events e"
      " LEFT JOIN enrollments n ON n.id = e.udid"
      " WHERE e.event = 'profile_served' AND e.udid <> '' AND e.at <= $1"
      " AND (n.id IS NULL OR n.token_updated_at_ms < e.at * 1000)"
      " AND NOT EXISTS (SELECT 1 FROM enrollment_events l WHERE l.udid = e.udid"
      "   AND l.event = 'profile_served' AND l.id > e.id)"
      " ORDER BY e.at LIMIT $2",
      {served_before, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<StalledEnrollment> out;
  for (const SqlRow& row : *rows) {
    out.push_back({AsInt(row[0]), AsText(row[1]), AsText(row[2]), AsText(row[3]), AsText(row[4])});
  }
  return out;
}

Result<std::vector<UnenrolledDepDevice>> Store::ListUnenrolledDepDevices(int64_t assigned_before,
                                                                         int limit) {
  auto rows = db_->Query(
      "SELECT d.server, d.serial, d.profile_uuid, COALESCE(a.attempted_at, d.updated_at)"
      " FROM dep_devices d LEFT JOIN dep_assignments a"
      " ON a.server = d.server AND a.serial = d.serial"
      " WHERE d.deleted = 0 AND d.profile_uuid <> ''"
      " AND d.profile_status IN ('assigned', 'pushed')"
      " AND COALESCE(a.attempted_at, d.updated_at) <= $1"
      " AND NOT EXISTS (SELECT 1 FROM enrollment_events e WHERE e.serial = d.serial"
      "   AND e.event = 'profile_served')"
      " ORDER BY 4, d.serial LIMIT $2",
      {assigned_before, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<UnenrolledDepDevice> out;
  for (const SqlRow& row : *rows) {
    out.push_back({AsText(row[0]), AsText(row[1]), AsText(row[2]), AsInt(row[3])});
  }
  return out;
}

Result<int64_t> Store::CountAnonymousDownloads(int64_t served_before) {
  auto rows = db_->Query(
      "SELECT COUNT(*) FROM enrollment_events WHERE event = 'profile_served' AND udid = ''"
      " AND at <= $1",
      {served_before});
  if (!rows.ok()) return rows.status();
  return rows->empty() ? 0 : AsInt(rows->front()[0]);
}

}  // namespace mdmgw::store

// AuditStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {

Status Store::RecordAudit(const AuditRecord& r) {
  return db_
      ->Exec(
          "INSERT INTO audit_log (at, actor_id, actor, remote, method, path, route, status, error) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {r.at, r.actor_id, r.actor, r.remote, r.method, r.path, r.route,
           static_cast<int64_t>(r.status), r.error})
      .status();
}

Result<std::vector<AuditRecord>> Store::ListAudit(int64_t before_id, int limit) {
  constexpr const char* kSelect =
      "SELECT id, at, actor_id, actor, remote, method, path, route, status, error FROM audit_log ";
  auto rows = before_id > 0
                  ? db_->Query(std::string(kSelect) + "WHERE id < $1 ORDER BY id DESC LIMIT $2",
                               {before_id, static_cast<int64_t>(limit)})
                  : db_->Query(std::string(kSelect) + "ORDER BY id DESC LIMIT $1",
                               {static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<AuditRecord> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    AuditRecord r;
    r.id = AsInt(row[0]);
    r.at = AsInt(row[1]);
    r.actor_id = AsText(row[2]);
    r.actor = AsText(row[3]);
    r.remote = AsText(row[4]);
    r.method = AsText(row[5]);
    r.path = AsText(row[6]);
    r.route = AsText(row[7]);
    r.status = static_cast<int>(AsInt(row[8]));
    r.error = AsText(row[9]);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mdmgw::store

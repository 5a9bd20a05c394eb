// LeaseStore over SqlDatabase (portable SQL; the database clock comes from the backend).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr char kColumns[] = "name, holder, token, expires_at_ms, acquired_at_ms";

LeaseRecord LeaseOf(const SqlRow& row) {
  LeaseRecord r;
  r.name = AsText(row[0]);
  r.holder = AsText(row[1]);
  r.token = AsInt(row[2]);
  r.expires_at_ms = AsInt(row[3]);
  r.acquired_at_ms = AsInt(row[4]);
  r.now_ms = AsInt(row[5]);
  return r;
}

Status LeaseLost(const std::string& name) {
  return Status::FailedPrecondition(
      "lease \"" + name + "\" is no longer held by this instance (another instance took it over)",
      "lease_lost");
}

}  // namespace

Result<LeaseRecord> Store::AcquireLease(const std::string& name, const std::string& holder,
                                        int64_t ttl_ms) {
  const std::string now(db_->NowMillisSql());
  // One statement decides, so two instances racing for a free lease cannot both win: the row's
  // unique key makes the second an update, and its WHERE refuses a lease that is held by another
  // and not yet expired. The token grows whenever the lease is (re)taken rather than renewed.
  const std::string acquire =
      "INSERT INTO leases (" + std::string(kColumns) + ") VALUES ($1, $2, 1, " + now + " + $3, " +
      now +
      ") ON CONFLICT (name) DO UPDATE SET"
      " token = CASE WHEN leases.holder = excluded.holder AND"
      " leases.expires_at_ms > excluded.acquired_at_ms THEN leases.token ELSE leases.token + 1 END,"
      " acquired_at_ms = CASE WHEN leases.holder = excluded.holder AND"
      " leases.expires_at_ms > excluded.acquired_at_ms THEN leases.acquired_at_ms"
      " ELSE excluded.acquired_at_ms END,"
      " holder = excluded.holder, expires_at_ms = excluded.expires_at_ms"
      " WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= excluded.acquired_at_ms";
  LeaseRecord result;
  Status s = db_->Transaction([&]() -> Status {
    auto taken = db_->Exec(acquire, {name, holder, ttl_ms});
    if (!taken.ok()) return taken.status();
    auto rows = db_->Query(
        "SELECT " + std::string(kColumns) + ", " + now + " FROM leases WHERE name = $1", {name});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::Internal("lease row missing after acquire");
    result = LeaseOf(rows->front());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Status Store::RenewLease(const std::string& name, const std::string& holder, int64_t token,
                         int64_t ttl_ms) {
  // The token alone decides: had anyone taken the lease over, the token would have moved on. A
  // lease that expired without being taken may therefore be renewed: nobody else wrote meanwhile.
  auto r = db_->Exec("UPDATE leases SET expires_at_ms = " + std::string(db_->NowMillisSql()) +
                         " + $4 WHERE name = $1 AND holder = $2 AND token = $3",
                     {name, holder, token, ttl_ms});
  if (!r.ok()) return r.status();
  return r.value() == 1 ? Status::Ok() : LeaseLost(name);
}

Status Store::ReleaseLease(const std::string& name, const std::string& holder, int64_t token) {
  return db_
      ->Exec("UPDATE leases SET expires_at_ms = " + std::string(db_->NowMillisSql()) +
                 " WHERE name = $1 AND holder = $2 AND token = $3",
             {name, holder, token})
      .status();
}

Result<int64_t> Store::ForfeitLeases(const std::string& holder) {
  const std::string now(db_->NowMillisSql());
  return db_->Exec("UPDATE leases SET token = token + 1, expires_at_ms = " + now +
                       " WHERE holder = $1 AND expires_at_ms > " + now,
                   {holder});
}

Result<LeaseRecord> Store::GetLease(const std::string& name) {
  auto rows = db_->Query("SELECT " + std::string(kColumns) + ", " +
                             std::string(db_->NowMillisSql()) + " FROM leases WHERE name = $1",
                         {name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("lease \"" + name + "\" was never taken");
  return LeaseOf(rows->front());
}

Result<std::vector<LeaseRecord>> Store::ListLeases() {
  auto rows = db_->Query("SELECT " + std::string(kColumns) + ", " +
                         std::string(db_->NowMillisSql()) + " FROM leases ORDER BY name");
  if (!rows.ok()) return rows.status();
  std::vector<LeaseRecord> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) out.push_back(LeaseOf(row));
  return out;
}

Status Store::CheckLeaseFence(const LeaseFence& fence) {
  // An UPDATE rather than a SELECT: on PostgreSQL it locks the row until the caller's transaction
  // ends, so an instance taking the lease over waits for this write and then moves the token on,
  // after which this holder's next write fails here. (SQLite has one writer at a time anyway.)
  auto r =
      db_->Exec("UPDATE leases SET token = token WHERE name = $1 AND holder = $2 AND token = $3",
                {fence.name, fence.holder, fence.token});
  if (!r.ok()) return r.status();
  return r.value() == 1 ? Status::Ok() : LeaseLost(fence.name);
}

}  // namespace mdmgw::store

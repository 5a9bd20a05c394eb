// ProfileStore over SqlDatabase (portable SQL; both backends).
#include "store/store.h"

namespace mdmgw::store {
namespace {

constexpr std::string_view kColumns = "id, name, method, settings, created_at, updated_at";

EnrollmentProfileRecord FromRow(const SqlRow& row) {
  EnrollmentProfileRecord r;
  r.id = AsText(row[0]);
  r.name = AsText(row[1]);
  r.method = AsText(row[2]);
  r.settings_json = AsText(row[3]);
  r.created_at = AsInt(row[4]);
  r.updated_at = AsInt(row[5]);
  return r;
}

// A unique-name violation reads as AlreadyExists from either driver; say which name.
Status NameTaken(const Status& s, const std::string& name) {
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("an enrollment profile named \"" + name + "\" exists",
                                 "name_taken");
  }
  return s;
}

}  // namespace

Status Store::CreateEnrollmentProfile(const EnrollmentProfileRecord& r) {
  auto done = db_->Exec("INSERT INTO enrollment_profiles (" + std::string(kColumns) +
                            ") VALUES ($1, $2, $3, $4, $5, $6)",
                        {r.id, r.name, r.method, r.settings_json, r.created_at, r.updated_at});
  return done.ok() ? Status::Ok() : NameTaken(done.status(), r.name);
}

Status Store::UpdateEnrollmentProfile(const EnrollmentProfileRecord& r) {
  return db_->Transaction([&]() -> Status {
    auto done = db_->Exec(
        "UPDATE enrollment_profiles SET name = $2, method = $3, settings = $4, updated_at = $5"
        " WHERE id = $1",
        {r.id, r.name, r.method, r.settings_json, r.updated_at});
    if (!done.ok()) return NameTaken(done.status(), r.name);
    if (*done == 0) return Status::NotFound("no enrollment profile " + r.id, "not_found");
    return NotifyChange(kEnrollmentProfilesTopic);
  });
}

Result<EnrollmentProfileRecord> Store::GetEnrollmentProfile(const std::string& id_or_name) {
  auto rows = db_->Query("SELECT " + std::string(kColumns) +
                             " FROM enrollment_profiles WHERE id = $1 OR name = $1"
                             " ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1",
                         {id_or_name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("no enrollment profile \"" + id_or_name + "\"", "not_found");
  }
  return FromRow(rows->front());
}

Result<std::vector<EnrollmentProfileRecord>> Store::ListEnrollmentProfiles() {
  auto rows =
      db_->Query("SELECT " + std::string(kColumns) + " FROM enrollment_profiles ORDER BY name");
  if (!rows.ok()) return rows.status();
  std::vector<EnrollmentProfileRecord> out;
  for (const SqlRow& row : *rows) out.push_back(FromRow(row));
  return out;
}

Status Store::DeleteEnrollmentProfile(const std::string& id) {
  return db_->Transaction([&]() -> Status {
    auto done = db_->Exec("DELETE FROM enrollment_profiles WHERE id = $1", {id});
    if (!done.ok()) return done.status();
    if (*done == 0) return Status::NotFound("no enrollment profile " + id, "not_found");
    auto serials = db_->Exec("DELETE FROM profile_serials WHERE profile_id = $1", {id});
    if (!serials.ok()) return serials.status();
    return NotifyChange(kEnrollmentProfilesTopic);
  });
}

Status Store::ReplaceProfileSerials(
    const std::string& profile_id,
    const std::vector<std::pair<std::string, std::string>>& serials_and_details) {
  return db_->Transaction([&]() -> Status {
    auto cleared = db_->Exec("DELETE FROM profile_serials WHERE profile_id = $1", {profile_id});
    if (!cleared.ok()) return cleared.status();
    for (const auto& [serial, details] : serials_and_details) {
      auto r =
          db_->Exec("INSERT INTO profile_serials (profile_id, serial, details) VALUES ($1, $2, $3)",
                    {profile_id, serial, details});
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  });
}

Result<std::vector<std::pair<std::string, std::string>>> Store::ListProfileSerials(
    const std::string& profile_id) {
  auto rows = db_->Query(
      "SELECT serial, details FROM profile_serials WHERE profile_id = $1 ORDER BY serial",
      {profile_id});
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const SqlRow& row : *rows) out.emplace_back(AsText(row[0]), AsText(row[1]));
  return out;
}

Result<bool> Store::HasProfileSerial(const std::string& profile_id, const std::string& serial) {
  auto rows = db_->Query("SELECT 1 FROM profile_serials WHERE profile_id = $1 AND serial = $2",
                         {profile_id, serial});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

Status Store::PutGroup(const GroupRecord& g) {
  return db_->Transaction([&]() -> Status {
    auto up = db_->Exec(
        "INSERT INTO member_groups (name, updated_at) VALUES ($1, $2)"
        " ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
        {g.name, g.updated_at});
    if (!up.ok()) return up.status();
    auto cleared = db_->Exec("DELETE FROM group_members WHERE group_name = $1", {g.name});
    if (!cleared.ok()) return cleared.status();
    for (const auto& [kind, values] :
         {std::pair{"serial", &g.serials}, std::pair{"user", &g.users}}) {
      for (const auto& v : *values) {
        auto r = db_->Exec(
            "INSERT INTO group_members (group_name, kind, value) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            {g.name, std::string(kind), v});
        if (!r.ok()) return r.status();
      }
    }
    return Status::Ok();
  });
}

namespace {
Status FillMembers(SqlDatabase& db, GroupRecord* g) {
  auto rows =
      db.Query("SELECT kind, value FROM group_members WHERE group_name = $1 ORDER BY kind, value",
               {g->name});
  if (!rows.ok()) return rows.status();
  for (const SqlRow& row : *rows) {
    (AsText(row[0]) == "serial" ? g->serials : g->users).push_back(AsText(row[1]));
  }
  return Status::Ok();
}
}  // namespace

Result<GroupRecord> Store::GetGroup(const std::string& name) {
  auto rows = db_->Query("SELECT name, updated_at FROM member_groups WHERE name = $1", {name});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no group \"" + name + "\"", "not_found");
  GroupRecord g{AsText(rows->front()[0]), {}, {}, AsInt(rows->front()[1])};
  MDMGW_RETURN_IF_ERROR(FillMembers(*db_, &g));
  return g;
}

Result<std::vector<GroupRecord>> Store::ListGroups() {
  auto rows = db_->Query("SELECT name, updated_at FROM member_groups ORDER BY name");
  if (!rows.ok()) return rows.status();
  std::vector<GroupRecord> out;
  for (const SqlRow& row : *rows) {
    GroupRecord g{AsText(row[0]), {}, {}, AsInt(row[1])};
    MDMGW_RETURN_IF_ERROR(FillMembers(*db_, &g));
    out.push_back(std::move(g));
  }
  return out;
}

Status Store::DeleteGroup(const std::string& name) {
  return db_->Transaction([&]() -> Status {
    auto done = db_->Exec("DELETE FROM member_groups WHERE name = $1", {name});
    if (!done.ok()) return done.status();
    if (*done == 0) return Status::NotFound("no group \"" + name + "\"", "not_found");
    return db_->Exec("DELETE FROM group_members WHERE group_name = $1", {name}).status();
  });
}

Result<bool> Store::IsGroupMember(const std::vector<std::string>& groups, const std::string& kind,
                                  const std::string& value) {
  for (const auto& g : groups) {
    auto rows =
        db_->Query("SELECT 1 FROM group_members WHERE group_name = $1 AND kind = $2 AND value = $3",
                   {g, kind, value});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) return true;
  }
  return false;
}

Result<EnrollmentCaRecord> Store::GetEnrollmentCa() {
  auto rows = db_->Query("SELECT cert_pem, sealed_key, created_at FROM enrollment_ca WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no enrollment CA yet");
  const SqlRow& row = rows->front();
  return EnrollmentCaRecord{AsText(row[0]), AsText(row[1]), AsInt(row[2])};
}

Status Store::PutEnrollmentCaIfAbsent(const EnrollmentCaRecord& r) {
  return db_
      ->Exec(
          "INSERT INTO enrollment_ca (id, cert_pem, sealed_key, created_at)"
          " VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
          {r.cert_pem, Blob{r.sealed_key}, r.created_at})
      .status();
}

namespace {
constexpr std::string_view kLinkColumns =
    "token_hash, kind, profile_id, subject, created_at, expires_at, max_uses, uses, revoked_at";
EnrollmentLinkRecord LinkFromRow(const SqlRow& row) {
  EnrollmentLinkRecord r;
  r.token_hash = AsText(row[0]);
  r.kind = AsText(row[1]);
  r.profile_id = AsText(row[2]);
  r.subject = AsText(row[3]);
  r.created_at = AsInt(row[4]);
  r.expires_at = AsInt(row[5]);
  r.max_uses = AsInt(row[6]);
  r.uses = AsInt(row[7]);
  r.revoked_at = AsInt(row[8]);
  return r;
}
}  // namespace

Status Store::CreateEnrollmentLink(const EnrollmentLinkRecord& r) {
  return db_
      ->Exec("INSERT INTO enrollment_links (" + std::string(kLinkColumns) +
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
             {r.token_hash, r.kind, r.profile_id, r.subject, r.created_at, r.expires_at, r.max_uses,
              r.uses, r.revoked_at})
      .status();
}

Result<EnrollmentLinkRecord> Store::GetEnrollmentLink(const std::string& token_hash) {
  auto rows = db_->Query(
      "SELECT " + std::string(kLinkColumns) + " FROM enrollment_links WHERE token_hash = $1",
      {token_hash});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("unknown enrollment link", "unknown_link");
  return LinkFromRow(rows->front());
}

Result<EnrollmentLinkRecord> Store::UseEnrollmentLink(const std::string& token_hash, int64_t now) {
  EnrollmentLinkRecord out;
  Status s = db_->Transaction([&]() -> Status {
    auto link = GetEnrollmentLink(token_hash);
    if (!link.ok()) return link.status();
    out = std::move(link).value();
    if (out.revoked_at != 0)
      return Status::FailedPrecondition("this link was revoked", "link_revoked");
    if (out.expires_at != 0 && out.expires_at <= now)
      return Status::FailedPrecondition("this link has expired", "link_expired");
    if (out.max_uses != 0 && out.uses >= out.max_uses)
      return Status::FailedPrecondition("this link has been used up", "link_used_up");
    // The guard repeats the checks, so two instances cannot both take the last use.
    auto used = db_->Exec(
        "UPDATE enrollment_links SET uses = uses + 1 WHERE token_hash = $1"
        " AND (max_uses = 0 OR uses < max_uses)",
        {token_hash});
    if (!used.ok()) return used.status();
    if (*used == 0) return Status::FailedPrecondition("this link has been used up", "link_used_up");
    ++out.uses;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<EnrollmentLinkRecord>> Store::ListEnrollmentLinks(const std::string& kind) {
  auto rows = db_->Query("SELECT " + std::string(kLinkColumns) +
                             " FROM enrollment_links WHERE $1 = '' OR kind = $1"
                             " ORDER BY created_at DESC, token_hash",
                         {kind});
  if (!rows.ok()) return rows.status();
  std::vector<EnrollmentLinkRecord> out;
  for (const SqlRow& row : *rows) out.push_back(LinkFromRow(row));
  return out;
}

Status Store::RecordEnrollmentEvent(const EnrollmentEventRecord& e) {
  return db_
      ->Exec(
          "INSERT INTO enrollment_events (at, event, profile_id, method, serial, udid, detail)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {e.at, e.event, e.profile_id, e.method, e.serial, e.udid, e.detail})
      .status();
}

Result<std::vector<EnrollmentEventRecord>> Store::ListEnrollmentEvents(int64_t after, int limit) {
  auto rows = db_->Query(
      "SELECT id, at, event, profile_id, method, serial, udid, detail FROM enrollment_events"
      " WHERE id > $1 ORDER BY id LIMIT $2",
      {after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<EnrollmentEventRecord> out;
  for (const SqlRow& row : *rows) {
    EnrollmentEventRecord e;
    e.id = AsInt(row[0]);
    e.at = AsInt(row[1]);
    e.event = AsText(row[2]);
    e.profile_id = AsText(row[3]);
    e.method = AsText(row[4]);
    e.serial = AsText(row[5]);
    e.udid = AsText(row[6]);
    e.detail = AsText(row[7]);
    out.push_back(std::move(e));
  }
  return out;
}

Result<PortalRecord> Store::GetPortal() {
  auto rows = db_->Query("SELECT document, logo, logo_type, updated_at FROM portal WHERE id = 1");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no portal branding set");
  const SqlRow& row = rows->front();
  PortalRecord r;
  r.document = AsText(row[0]);
  if (!std::holds_alternative<std::monostate>(row[1])) r.logo = AsText(row[1]);
  r.logo_type = AsText(row[2]);
  r.updated_at = AsInt(row[3]);
  return r;
}

Status Store::PutPortal(const PortalRecord& r) {
  SqlValue logo = r.logo ? SqlValue(Blob{*r.logo}) : SqlValue();
  return db_
      ->Exec(
          "INSERT INTO portal (id, document, logo, logo_type, updated_at) VALUES (1, $1, $2, $3, "
          "$4)"
          " ON CONFLICT (id) DO UPDATE SET document = excluded.document, logo = excluded.logo,"
          " logo_type = excluded.logo_type, updated_at = excluded.updated_at",
          {r.document, logo, r.logo_type, r.updated_at})
      .status();
}

}  // namespace mdmgw::store

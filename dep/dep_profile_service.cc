#include "dep/dep_profile_service.h"

#include <algorithm>

#include "common/log.h"
#include "common/names.h"
#include "dep/dep_profile.h"

namespace mdmgw::dep {

DepProfileService::DepProfileService(store::DepStore& store, DepClients& clients,
                                     DepAssigner& assigner, std::string public_url,
                                     std::vector<std::string> anchor_certs, Clock& clock)
    : store_(store),
      clients_(clients),
      assigner_(assigner),
      public_url_(std::move(public_url)),
      anchor_certs_(std::move(anchor_certs)),
      clock_(clock) {
  while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
}

std::string DepProfileService::EnrollmentUrl(const std::string& name) const {
  std::lock_guard lock(mu_);
  return public_url_ + "/enroll/dep/" + name;
}

void DepProfileService::SetPublicUrl(std::string public_url) {
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  std::lock_guard lock(mu_);
  public_url_ = std::move(public_url);
}

Result<DepProfileDefineResult> DepProfileService::Define(const std::string& server,
                                                         const std::string& name,
                                                         const nlohmann::json& request,
                                                         const std::string& enrollment_profile) {
  if (!IsPlainName(name)) {
    return Status::InvalidArgument("profile names are 1-64 characters of A-Z a-z 0-9 . _ -",
                                   "bad_name");
  }
  if (!request.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object of DEP profile fields",
                                   "bad_request");
  }
  auto server_record = store_.GetDepServer(server);
  if (!server_record.ok()) return server_record.status();
  nlohmann::json apple_fields = request;
  std::optional<bool> make_default;
  if (auto it = apple_fields.find("default"); it != apple_fields.end()) {
    if (!it->is_boolean())
      return Status::InvalidArgument("default must be true or false", "bad_request");
    make_default = it->get<bool>();
    apple_fields.erase(it);
  }
  DepProfileDefaults defaults;
  defaults.profile_name = name;
  defaults.url = EnrollmentUrl(name);
  defaults.anchor_certs = anchor_certs_;
  auto built = BuildDepProfile(apple_fields, defaults);
  if (!built.ok()) return built.status();
  MDMGW_RETURN_IF_ERROR(DepAssigner::CheckRequestSize(built->devices));
  auto lease = clients_.For(server);
  if (!lease.ok()) return lease.status();
  // Devices are assigned after the profile is stored, so their records name a known profile.
  auto defined = lease->client->DefineProfile(built->profile);
  if (!defined.ok()) return defined.status().WithContext("defining the profile at Apple");

  DepProfileDefineResult out;
  auto previous = store_.GetDepProfile(server, name);
  out.created = !previous.ok();
  out.warnings = built->warnings;
  out.record.server = server;
  out.record.name = name;
  out.record.profile_uuid = defined->profile_uuid;
  out.record.definition = built->profile.dump();
  out.record.defined_at = clock_.NowUnixSeconds();
  out.record.enrollment_profile = enrollment_profile;
  MDMGW_RETURN_IF_ERROR(store_.PutDepProfile(out.record));
  if (make_default.has_value()) {
    if (*make_default) {
      MDMGW_RETURN_IF_ERROR(store_.SetDepDefaultProfile(server, name));
    } else if (server_record->default_profile == name) {
      MDMGW_RETURN_IF_ERROR(store_.SetDepDefaultProfile(server, ""));
    }
  }
  out.is_default = make_default.value_or(server_record->default_profile == name);
  log::Info("dep: profile defined at Apple", {{"server", server},
                                              {"profile", name},
                                              {"profile_uuid", out.record.profile_uuid},
                                              {"default", out.is_default}});
  if (previous.ok() && previous->profile_uuid != out.record.profile_uuid) {
    std::vector<std::string> moving;
    std::string after;
    while (true) {
      auto page = store_.ListDepSerialsWithProfile(server, previous->profile_uuid, after, 10000);
      if (!page.ok()) return page.status().WithContext("profile defined; finding its devices");
      if (page->empty()) break;
      after = page->back();
      moving.insert(moving.end(), page->begin(), page->end());
    }
    if (!moving.empty()) {
      // The assigner sends 1,000 per call and stops at a THROTTLED answer: the rest keeps the
      // old profile until the admin redefines or assigns again (`not_sent` says how many).
      auto moved = assigner_.AssignUuid(server, name, out.record.profile_uuid, moving);
      if (!moved.ok()) return moved.status().WithContext("profile defined; moving its devices");
      moved->devices.clear();
      out.reassigned = std::move(moved).value();
    }
  }
  if (!built->devices.empty()) {
    auto assigned = assigner_.AssignUuid(server, name, out.record.profile_uuid, built->devices);
    if (!assigned.ok()) return assigned.status().WithContext("profile defined; assigning devices");
    out.assigned = std::move(assigned).value();
  }
  return out;
}

Result<std::vector<store::DepProfileRecord>> DepProfileService::List(const std::string& server) {
  auto record = store_.GetDepServer(server);
  if (!record.ok()) return record.status();
  return store_.ListDepProfiles(server);
}

std::string DepProfileService::DefaultProfile(const std::string& server) {
  auto record = store_.GetDepServer(server);
  return record.ok() ? record->default_profile : std::string();
}

Result<store::DepProfileRecord> DepProfileService::Get(const std::string& server,
                                                       const std::string& name) {
  return store_.GetDepProfile(server, name);
}

Result<nlohmann::json> DepProfileService::Remote(const std::string& server,
                                                 const std::string& name) {
  auto record = store_.GetDepProfile(server, name);
  if (!record.ok()) return record.status();
  auto lease = clients_.For(server);
  if (!lease.ok()) return lease.status();
  return lease->client->GetProfile(record->profile_uuid);
}

}  // namespace mdmgw::dep

#include "configurator/enrollment_profile_service.h"

#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"
#include "configurator/usb_sa_bundle.h"

namespace mdmgw::configurator {
namespace {

std::string Pem(const std::string& der) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

}  // namespace

EnrollmentProfileService::EnrollmentProfileService(store::ProfileStore& profiles,
                                                   const SecretBox& box,
                                                   const ProfileSigner& signer, EnrollmentCa* ca,
                                                   std::vector<std::string> anchor_certs_der,
                                                   std::string public_url, Clock& clock)
    : profiles_(profiles),
      box_(box),
      signer_(signer),
      ca_(ca),
      anchors_(std::move(anchor_certs_der)),
      clock_(clock) {
  SetPublicUrl(std::move(public_url));
}

void EnrollmentProfileService::SetPushTopic(std::string topic) {
  std::lock_guard lock(mu_);
  push_topic_ = std::move(topic);
}

void EnrollmentProfileService::SetPublicUrl(std::string public_url) {
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  std::lock_guard lock(mu_);
  public_url_ = std::move(public_url);
}

Status EnrollmentProfileService::CheckGroupsExist(const EnrollmentProfile& p) {
  for (const auto& g : p.pilot_groups) {
    auto found = profiles_.GetGroup(g);
    if (found.status().IsNotFound()) {
      return Status::InvalidArgument(
          "pilot group \"" + g + "\" does not exist (PUT /api/v1/groups/" + g + " first)",
          "unknown_group");
    }
    if (!found.ok()) return found.status();
  }
  return Status::Ok();
}

Result<EnrollmentProfile> EnrollmentProfileService::Create(const nlohmann::json& body) {
  std::string id = "ep_" + HexEncode(RandomBytes(8));
  auto p = ParseEnrollmentProfile(body, nullptr, id, box_);
  if (!p.ok()) return p.status();
  MDMGW_RETURN_IF_ERROR(CheckGroupsExist(*p));
  p->created_at = p->updated_at = clock_.NowUnixSeconds();
  MDMGW_RETURN_IF_ERROR(profiles_.CreateEnrollmentProfile(p->ToRecord()));
  log::Info("enrollment profile created",
            {{"id", p->id}, {"name", p->name}, {"method", TraitsOf(p->method).name}});
  return p;
}

Result<EnrollmentProfile> EnrollmentProfileService::Update(const std::string& id_or_name,
                                                           const nlohmann::json& body) {
  auto current = Get(id_or_name);
  if (!current.ok()) return current.status();
  auto p = ParseEnrollmentProfile(body, &*current, current->id, box_);
  if (!p.ok()) return p.status();
  if (body.contains("pilot_groups")) MDMGW_RETURN_IF_ERROR(CheckGroupsExist(*p));
  // A version stamp that always moves, so the cached profile is rebuilt even within a second.
  p->updated_at = std::max(clock_.NowUnixSeconds(), current->updated_at + 1);
  MDMGW_RETURN_IF_ERROR(profiles_.UpdateEnrollmentProfile(p->ToRecord()));
  return p;
}

Result<EnrollmentProfile> EnrollmentProfileService::Get(const std::string& id_or_name) {
  auto r = profiles_.GetEnrollmentProfile(id_or_name);
  if (!r.ok()) return r.status();
  return EnrollmentProfileFromRecord(*r);
}

Result<std::vector<EnrollmentProfile>> EnrollmentProfileService::List() {
  auto rows = profiles_.ListEnrollmentProfiles();
  if (!rows.ok()) return rows.status();
  std::vector<EnrollmentProfile> out;
  for (const auto& r : *rows) {
    auto p = EnrollmentProfileFromRecord(r);
    if (!p.ok()) return p.status();
    out.push_back(std::move(p).value());
  }
  return out;
}

Status EnrollmentProfileService::Delete(const std::string& id_or_name) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  MDMGW_RETURN_IF_ERROR(profiles_.DeleteEnrollmentProfile(p->id));
  std::lock_guard lock(mu_);
  cache_.erase(p->id);
  return Status::Ok();
}

std::string EnrollmentProfileService::EnrollmentUrl(const EnrollmentProfile& p) const {
  std::lock_guard lock(mu_);
  return public_url_ + "/enroll/dep/" + p.id;
}

void EnrollmentProfileService::ForgetBuiltProfiles() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

Result<std::shared_ptr<const MobileconfigTemplate>> EnrollmentProfileService::TemplateFor(
    const EnrollmentProfile& p) {
  std::string topic, base;
  {
    std::lock_guard lock(mu_);
    topic = push_topic_;
    base = public_url_;
    auto it = cache_.find(p.id);
    if (it != cache_.end() && it->second.updated_at == p.updated_at && it->second.topic == topic &&
        it->second.public_url == base) {
      return it->second.tmpl;
    }
  }
  MobileconfigContext ctx;
  ctx.topic = topic;
  ctx.server_url = base + "/mdm/connect";
  ctx.checkin_url = base + "/mdm/checkin";
  ctx.anchor_certs_der = anchors_;
  auto challenge = OpenScepChallenge(p, box_);
  if (!challenge.ok()) return challenge.status();
  ctx.scep_challenge = *challenge;
  auto built = MobileconfigTemplate::Build(p, ctx);
  if (!built.ok()) return built.status();
  auto tmpl = std::make_shared<const MobileconfigTemplate>(std::move(built).value());
  std::lock_guard lock(mu_);
  cache_[p.id] = Cached{p.updated_at, topic, base, tmpl};
  return tmpl;
}

Result<std::string> EnrollmentProfileService::ProfileXml(const std::string& id_or_name,
                                                         const std::string& device) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  return ProfileXml(*p, device);
}

Result<std::string> EnrollmentProfileService::ProfileXml(const EnrollmentProfile& p,
                                                         const std::string& device) {
  auto tmpl = TemplateFor(p);
  if (!tmpl.ok()) return tmpl.status();
  if (!(*tmpl)->needs_identity()) return (*tmpl)->Render();
  if (ca_ == nullptr) {
    return Status::FailedPrecondition("no enrollment CA: pkcs12 identities are unavailable",
                                      "no_enrollment_ca");
  }
  std::string cn = !p.identity.subject_cn.empty() ? p.identity.subject_cn
                   : !device.empty()              ? device
                                     : "mdm-gateway device " + HexEncode(RandomBytes(6));
  auto identity = ca_->Issue(cn);
  if (!identity.ok()) return identity.status();
  RenderIdentity r{std::move(identity->pkcs12_der), std::move(identity->password)};
  return (*tmpl)->Render(&r);
}

Result<std::string> EnrollmentProfileService::SignedProfile(const std::string& id_or_name,
                                                            const std::string& device) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  return SignedProfile(*p, device);
}

Result<std::string> EnrollmentProfileService::SignedProfile(const EnrollmentProfile& p,
                                                            const std::string& device) {
  auto xml = ProfileXml(p, device);
  if (!xml.ok()) return xml.status();
  return signer_.Sign(*xml);
}

Result<std::string> EnrollmentProfileService::UsbSaZip(const std::string& id_or_name) {
  auto j = UsbSaExport(id_or_name);
  if (!j.ok()) return j.status();
  UsbSaBundle b;
  b.enrollment_url = (*j)["enrollment_url"];
  b.server_name = (*j)["server_name"];
  b.anchors_der = anchors_;
  auto serials = Serials(id_or_name);
  if (!serials.ok()) return serials.status();
  b.serials = std::move(serials).value();
  for (const auto& s : (*j)["steps"]) b.steps.push_back(s.get<std::string>());
  return MakeUsbSaZip(b);
}

Result<SerialImport> EnrollmentProfileService::ImportSerials(const std::string& id_or_name,
                                                             std::string_view csv) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  if (p->method != EnrollmentMethod::kUsbSa) {
    return Status::FailedPrecondition(
        "serial lists are for usb-sa profiles (Apple Configurator Prepare); this one is " +
            std::string(TraitsOf(p->method).name),
        "wrong_method");
  }
  SerialImport parsed = ParseConfiguratorCsv(csv);
  if (!parsed.errors.empty()) return parsed;
  MDMGW_RETURN_IF_ERROR(profiles_.ReplaceProfileSerials(p->id, parsed.rows));
  log::Info("enrollment profile serials imported",
            {{"id", p->id}, {"serials", parsed.rows.size()}});
  return parsed;
}

Result<std::vector<std::pair<std::string, std::string>>> EnrollmentProfileService::Serials(
    const std::string& id_or_name) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  return profiles_.ListProfileSerials(p->id);
}

Result<nlohmann::json> EnrollmentProfileService::UsbSaExport(const std::string& id_or_name) {
  auto p = Get(id_or_name);
  if (!p.ok()) return p.status();
  if (p->method != EnrollmentMethod::kUsbSa) {
    return Status::FailedPrecondition("the usb-sa export is for usb-sa profiles; this one is " +
                                          std::string(TraitsOf(p->method).name),
                                      "wrong_method");
  }
  nlohmann::json anchors = nlohmann::json::array();
  for (size_t i = 0; i < anchors_.size(); ++i) {
    anchors.push_back({{"file", "anchor-" + std::to_string(i + 1) + ".cer"},
                       {"pem", Pem(anchors_[i])},
                       {"der_base64", Base64Encode(anchors_[i])}});
  }
  return nlohmann::json{
      {"profile", p->id},
      {"name", p->name},
      {"enrollment_url", EnrollmentUrl(*p)},
      {"server_name", p->organization.empty() ? p->name : p->organization + " MDM"},
      {"anchor_certificates", anchors},
      {"serials", profiles_.ListProfileSerials(p->id).value_or({}).size()},
      {"steps",
       {"Apple Configurator > Settings > Servers > +: enter the server name and the enrollment URL "
        "(ignore \"server URL is not verified\"); add the anchor certificates if asked",
        "Select the device > Prepare > Manual Configuration > Enroll in MDM Server: this server",
        "Supervise devices; set the organisation and the Setup Assistant panes; Prepare (the "
        "device is erased and enrolls in Setup Assistant)"}}};
}

}  // namespace mdmgw::configurator

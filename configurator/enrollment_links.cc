#include "configurator/enrollment_links.h"

#include <algorithm>

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/names.h"
#include "common/random.h"

namespace mdmgw::configurator {
namespace {

std::string TokenHash(const std::string& token) { return HexEncode(crypto::Sha256(token)); }

Status WrongMethod(const EnrollmentProfile& p, const char* wanted) {
  return Status::FailedPrecondition(std::string("this needs a ") + wanted + " profile; \"" +
                                        p.name + "\" is " + std::string(TraitsOf(p.method).name),
                                    "wrong_method");
}

}  // namespace

EnrollmentLinks::EnrollmentLinks(EnrollmentProfileService& profiles, store::ProfileStore& store,
                                 Clock& clock)
    : profiles_(profiles), store_(store), clock_(clock) {}

void EnrollmentLinks::SetPublicUrl(std::string public_url) {
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  std::lock_guard lock(mu_);
  public_url_ = std::move(public_url);
}

Result<CreatedLink> EnrollmentLinks::Create(const std::string& kind, const EnrollmentProfile& p,
                                            const std::string& subject, int64_t expires_at,
                                            int64_t max_uses, const std::string& path) {
  std::string token = Base64UrlEncode(RandomBytes(24));
  CreatedLink out;
  out.record.token_hash = TokenHash(token);
  out.record.kind = kind;
  out.record.profile_id = p.id;
  out.record.subject = subject;
  out.record.created_at = clock_.NowUnixSeconds();
  out.record.expires_at = expires_at;
  out.record.max_uses = max_uses;
  MDMGW_RETURN_IF_ERROR(store_.CreateEnrollmentLink(out.record));
  std::lock_guard lock(mu_);
  out.url = public_url_ + path + (path.find('?') == std::string::npos ? "?" : "&") +
            (kind == "ota-invitation" ? "invite=" : "token=") + token;
  return out;
}

Result<CreatedLink> EnrollmentLinks::CreateDirectLink(const std::string& profile, int days) {
  if (days < 1 || days > 90) {
    return Status::InvalidArgument("days must be 1 to 90 (default 14)", "bad_request");
  }
  auto p = profiles_.Get(profile);
  if (!p.ok()) return p.status();
  if (p->method != EnrollmentMethod::kUsbDirect) return WrongMethod(*p, "usb-direct");
  return Create("usb-direct", *p, "", clock_.NowUnixSeconds() + int64_t{days} * 86400, 0,
                "/enroll/configurator/" + p->id + ".mobileconfig");
}

Result<CreatedLink> EnrollmentLinks::CreateInvitation(const std::string& profile,
                                                      const std::string& user, int days) {
  if (user.empty() || user.size() > 254) {
    return Status::InvalidArgument("user (who enrolls: an email or directory name) is required",
                                   "bad_request");
  }
  if (days < 1 || days > 30) {
    return Status::InvalidArgument("days must be 1 to 30 (default 7)", "bad_request");
  }
  auto p = profiles_.Get(profile);
  if (!p.ok()) return p.status();
  if (p->method != EnrollmentMethod::kOta) return WrongMethod(*p, "ota");
  if (!p->pilot_groups.empty()) {
    // A staged roll-out: only users in the profile's groups are invited.
    auto member = store_.IsGroupMember(p->pilot_groups, "user", user);
    if (!member.ok()) return member.status();
    if (!*member) {
      return Status::FailedPrecondition("\"" + user + "\" is not in this profile's pilot groups",
                                        "not_in_pilot");
    }
  }
  return Create("ota-invitation", *p, user, clock_.NowUnixSeconds() + int64_t{days} * 86400, 1,
                "/enroll/ota/" + p->id);
}

Result<CreatedLink> EnrollmentLinks::CreateDemManager(const std::string& manager,
                                                      const std::string& profile) {
  if (!IsPlainName(manager, "@")) {
    return Status::InvalidArgument("manager names are 1-64 of A-Z a-z 0-9 . _ - @", "bad_name");
  }
  auto p = profiles_.Get(profile);
  if (!p.ok()) return p.status();
  if (p->method != EnrollmentMethod::kDem) return WrongMethod(*p, "dem");
  auto existing = store_.ListEnrollmentLinks("dem");
  if (!existing.ok()) return existing.status();
  for (const auto& l : *existing) {
    if (l.subject == manager && l.revoked_at == 0) {
      return Status::AlreadyExists("a device enrollment manager \"" + manager + "\" exists",
                                   "name_taken");
    }
  }
  return Create("dem", *p, manager, 0, kDemEnrollmentLimit, "/enroll/dem/" + manager);
}

Result<std::vector<store::EnrollmentLinkRecord>> EnrollmentLinks::List(const std::string& kind) {
  return store_.ListEnrollmentLinks(kind);
}

DeviceAnswer EnrollmentLinks::Redeem(const std::string& kind, const std::string& name,
                                     const std::string& token, const std::string& remote_address) {
  if (token.empty()) return DeviceError(403, "no_token", "this link needs its token");
  // Look before counting a use: the URL's kind and profile (or manager) must be the token's.
  std::string hash = TokenHash(token);
  auto link = store_.GetEnrollmentLink(hash);
  if (!link.ok() && !link.status().IsNotFound())
    return DeviceError(500, "store", "internal error; see the gateway log");
  bool matches = link.ok() && link->kind == kind &&
                 (kind == "dem" ? link->subject == name : link->profile_id == name);
  if (!matches) return DeviceError(403, "bad_token", "this link is not valid");
  auto used = store_.UseEnrollmentLink(hash, clock_.NowUnixSeconds());
  if (!used.ok()) {
    // Gone: an expired, used or revoked link will not work again; say so plainly.
    std::string reason = used.status().reason();
    std::string message = reason == "link_used_up" && kind == "dem"
                              ? "this device enrollment manager has enrolled its 1,000 devices"
                              : used.status().message();
    return DeviceError(reason == "link_used_up" && kind == "dem" ? 403 : 410, reason, message);
  }
  auto profile = profiles_.Get(used->profile_id);
  if (!profile.ok())
    return DeviceError(404, "unknown_profile", "the link's profile no longer exists");
  auto signed_profile = profiles_.SignedProfile(*profile);
  if (!signed_profile.ok()) {
    int status = signed_profile.status().code() == StatusCode::kFailedPrecondition ? 503 : 500;
    return DeviceError(status, signed_profile.status().reason(), signed_profile.status().message());
  }
  store::EnrollmentEventRecord event;
  event.at = clock_.NowUnixSeconds();
  event.event = "profile_served";
  event.profile_id = profile->id;
  event.method = std::string(TraitsOf(profile->method).name);
  nlohmann::json detail = {{"link", kind}, {"remote", remote_address}, {"uses", used->uses}};
  if (kind == "ota-invitation") detail["user"] = used->subject;  // user affinity
  if (kind == "dem") detail["manager"] = used->subject;
  event.detail = detail.dump();
  if (Status s = store_.RecordEnrollmentEvent(event); !s.ok()) {
    return DeviceError(500, "store", "internal error; see the gateway log");
  }
  log::Info("enroll: profile served by link",
            {{"profile", profile->id}, {"link", kind}, {"uses", used->uses}});
  return {200, "application/x-apple-aspen-config", std::move(signed_profile).value()};
}

}  // namespace mdmgw::configurator

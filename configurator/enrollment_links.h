// EnrollmentLinks: the ways a profile reaches a device without Setup Assistant —
//  * USB-Direct: a download link for a usb-direct profile, reusable until it expires (default 14
//    days, as Intune's direct-enrollment profiles are); Apple Configurator installs the file.
//  * OTA invitations: a one-time link for one user (BYOD); the user is recorded with the device
//    (user affinity).
//  * DEM: a device enrollment manager — an admin-made identity with its own link for a dem
//    profile; each profile it hands out counts, and the 1,001st is refused.
// Tokens are random (192 bits) and shown once; only their SHA-256 is stored.
//
// Thread-safety: thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "configurator/enrollment_profile_service.h"
#include "configurator/setup_assistant_enrollment.h"
#include "store/profile_store.h"

namespace mdmgw::configurator {

inline constexpr int64_t kDemEnrollmentLimit = 1000;

struct CreatedLink {
  std::string url;  // with the token: shown once
  store::EnrollmentLinkRecord record;
};

class EnrollmentLinks {
 public:
  EnrollmentLinks(EnrollmentProfileService& profiles, store::ProfileStore& store,
                  Clock& clock = Clock::System());

  // usb-direct profiles; 1–90 days.
  Result<CreatedLink> CreateDirectLink(const std::string& profile, int days);
  // ota profiles; |user| is who enrolls (an email or directory name); 1–30 days.
  Result<CreatedLink> CreateInvitation(const std::string& profile, const std::string& user,
                                       int days);
  // dem profiles; |manager| names the device enrollment manager (unique).
  Result<CreatedLink> CreateDemManager(const std::string& manager, const std::string& profile);
  Result<std::vector<store::EnrollmentLinkRecord>> List(const std::string& kind);

  // Device side: |kind| and the profile (or manager) named in the URL must match the token's.
  DeviceAnswer Redeem(const std::string& kind, const std::string& name, const std::string& token,
                      const std::string& remote_address);

  void SetPublicUrl(std::string public_url);

 private:
  Result<CreatedLink> Create(const std::string& kind, const EnrollmentProfile& p,
                             const std::string& subject, int64_t expires_at, int64_t max_uses,
                             const std::string& path);

  EnrollmentProfileService& profiles_;
  store::ProfileStore& store_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::string public_url_;  // GUARDED_BY(mu_)
};

}  // namespace mdmgw::configurator

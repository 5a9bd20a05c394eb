// SetupAssistantEnrollment: the enrollment URL a device in Setup Assistant POSTs its signed
// MachineInfo to — for DEP (the DEP profile's url) and for Apple Configurator's Prepare (usb-sa,
// the exported Profile URL). The signature and the signer's chain are verified first (403,
// nothing recorded, when they fail); a usb-sa device must be on the profile's imported serial
// list; a profile's minimum OS answers Apple's com.apple.softwareupdate.required when the device
// can update; otherwise the answer is the signed .mobileconfig and a "profile_served" event.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "configurator/enrollment_profile_service.h"
#include "configurator/machine_info.h"
#include "store/profile_store.h"

namespace mdmgw::configurator {

// What to send back to the device.
struct DeviceAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};

// The JSON error answer {"error": {"code", "message"}} with |status|.
DeviceAnswer DeviceError(int status, const std::string& code, const std::string& message);

class SetupAssistantEnrollment {
 public:
  SetupAssistantEnrollment(EnrollmentProfileService& profiles, const MachineInfoVerifier& verifier,
                           store::ProfileStore& store, Clock& clock = Clock::System());

  // |profile|: the id (or name) in the enrollment URL; |body|: the CMS-signed MachineInfo.
  DeviceAnswer Enroll(const std::string& profile, std::string_view body,
                      const std::string& remote_address);

 private:
  EnrollmentProfileService& profiles_;
  const MachineInfoVerifier& verifier_;
  store::ProfileStore& store_;
  Clock& clock_;
};

}  // namespace mdmgw::configurator

// configurator: enrollment profiles, their signing, MachineInfo verification and the Apple
// Configurator exports (issue 5). This file: the enrollment methods and what each implies, in one
// table, so the profile builder, the exports and the admin API agree.
#pragma once

#include <optional>
#include <string_view>

namespace mdmgw::configurator {

enum class EnrollmentMethod {
  kDep,        // Automated Device Enrollment: MachineInfo POST from Setup Assistant
  kUsbSa,      // Configurator Prepare with a Profile URL: supervised, device wiped
  kUsbDirect,  // a .mobileconfig installed by Configurator: no wipe, unsupervised, no user affinity
  kOta,        // over the air / BYOD: profile downloaded on the device
};

struct MethodTraits {
  std::string_view name;       // API spelling: "dep", "usb-sa", "usb-direct", "ota"
  bool can_supervise;          // the method can produce a supervised device
  bool wipes_device;           // the device is erased as part of enrollment
  bool allows_user_affinity;   // a user can be bound during enrollment
  bool verifies_machine_info;  // the device proves its identity with signed MachineInfo
};

const MethodTraits& TraitsOf(EnrollmentMethod method);
std::optional<EnrollmentMethod> ParseEnrollmentMethod(std::string_view name);

}  // namespace mdmgw::configurator

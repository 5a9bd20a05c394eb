// configurator: enrollment profiles, their signing, MachineInfo verification and the Apple
// Configurator exports (issue 5). This file: the enrollment methods and what each implies — the
// product's table — in one place, so the profile builder, the exports, the admin API and the
// console agree, and a forbidden combination is refused naming the rule.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mdmgw::configurator {

enum class EnrollmentMethod {
  kDep,        // Automated Device Enrollment: MachineInfo POST from Setup Assistant
  kUsbSa,      // Configurator Prepare with a Profile URL + Setup Assistant: supervised, wiped
  kUsbDirect,  // a .mobileconfig installed by Configurator: no wipe, unsupervised, no user affinity
  kOta,        // over the air / BYOD: the user downloads the profile on the device
  kDem,        // a device enrollment manager enrolls user-less devices (<= 1,000 per manager)
};

// What the table says about a property: always, never, or the admin's choice.
enum class Rule { kYes, kNo, kOptional };

struct MethodTraits {
  EnrollmentMethod method;
  std::string_view name;  // API spelling: dep, usb-sa, usb-direct, ota, dem
  std::string_view description;
  std::vector<std::string_view> platforms;  // "ios" (iOS/iPadOS), "macos"
  bool factory_reset;                       // the device is erased as part of enrollment
  Rule user_affinity;
  Rule locked;  // the MDM profile cannot be removed by the user
  Rule supervised;
  bool verifies_machine_info;  // the device proves itself with signed MachineInfo
};

// Every method, in the table's order.
const std::vector<MethodTraits>& EnrollmentMethods();
const MethodTraits& TraitsOf(EnrollmentMethod method);
std::optional<EnrollmentMethod> ParseEnrollmentMethod(std::string_view name);

// The flags an enrollment profile asks for; unset ones take the method's default (kYes → true,
// kNo and kOptional → false).
struct ProfileFlags {
  std::optional<bool> supervised;
  std::optional<bool> locked;
  std::optional<bool> user_affinity;
};
struct ResolvedFlags {
  bool supervised = false;
  bool locked = false;
  bool user_affinity = false;
};
// InvalidArgument (reason "method_rule") naming the rule when the table forbids the combination,
// e.g. "usb-direct profiles cannot be locked".
Result<ResolvedFlags> ResolveFlags(EnrollmentMethod method, const ProfileFlags& flags);

// The table as JSON for GET /api/v1/enrollment-methods.
nlohmann::json EnrollmentMethodsJson();

}  // namespace mdmgw::configurator

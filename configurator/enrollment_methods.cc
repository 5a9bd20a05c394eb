#include "configurator/enrollment_methods.h"

#include <string>

namespace mdmgw::configurator {
namespace {

std::string_view RuleName(Rule r) {
  switch (r) {
    case Rule::kYes:
      return "yes";
    case Rule::kNo:
      return "no";
    case Rule::kOptional:
      return "optional";
  }
  return "optional";
}

// Checks one flag against its rule; |what| names the property ("supervised", "locked", ...).
Status Check(const MethodTraits& t, Rule rule, const std::optional<bool>& asked, const char* what,
             const char* why_yes, const char* why_no, bool* out) {
  bool value = asked.value_or(rule == Rule::kYes);
  if (rule == Rule::kYes && !value) {
    return Status::InvalidArgument(
        std::string(t.name) + " profiles are always " + what + " (" + why_yes + ")", "method_rule");
  }
  if (rule == Rule::kNo && value) {
    return Status::InvalidArgument(
        std::string(t.name) + " profiles cannot be " + what + " (" + why_no + ")", "method_rule");
  }
  *out = value;
  return Status::Ok();
}

}  // namespace

const std::vector<MethodTraits>& EnrollmentMethods() {
  static const std::vector<MethodTraits>* table = new std::vector<MethodTraits>{
      {EnrollmentMethod::kDep,
       "dep",
       "Automated Device Enrollment (Apple Business Manager)",
       {"ios", "macos"},
       true,
       Rule::kOptional,
       Rule::kOptional,
       Rule::kYes,
       true},
      {EnrollmentMethod::kUsbSa,
       "usb-sa",
       "Apple Configurator with Setup Assistant (Prepare)",
       {"ios"},
       true,
       Rule::kOptional,
       Rule::kNo,
       Rule::kYes,
       true},
      {EnrollmentMethod::kUsbDirect,
       "usb-direct",
       "Apple Configurator direct profile install",
       {"ios"},
       false,
       Rule::kNo,
       Rule::kNo,
       Rule::kNo,
       false},
      {EnrollmentMethod::kOta,
       "ota",
       "Over the air: the user enrolls a personal device (BYOD)",
       {"ios", "macos"},
       false,
       Rule::kYes,
       Rule::kNo,
       Rule::kNo,
       false},
      {EnrollmentMethod::kDem,
       "dem",
       "Device enrollment manager: user-less devices, up to 1,000 per manager",
       {"ios", "macos"},
       false,
       Rule::kNo,
       Rule::kNo,
       Rule::kNo,
       false},
  };
  return *table;
}

const MethodTraits& TraitsOf(EnrollmentMethod method) {
  return EnrollmentMethods()[static_cast<size_t>(method)];
}

std::optional<EnrollmentMethod> ParseEnrollmentMethod(std::string_view name) {
  for (const auto& t : EnrollmentMethods()) {
    if (t.name == name) return t.method;
  }
  return std::nullopt;
}

Result<ResolvedFlags> ResolveFlags(EnrollmentMethod method, const ProfileFlags& flags) {
  const MethodTraits& t = TraitsOf(method);
  ResolvedFlags out;
  MDMGW_RETURN_IF_ERROR(Check(t, t.supervised, flags.supervised, "supervised",
                              "the device is prepared or assigned by the organisation",
                              "supervision needs a device erased by the organisation",
                              &out.supervised));
  MDMGW_RETURN_IF_ERROR(Check(t, t.locked, flags.locked, "locked", "",
                              "only Automated Device Enrollment can make the MDM profile "
                              "non-removable",
                              &out.locked));
  MDMGW_RETURN_IF_ERROR(Check(t, t.user_affinity, flags.user_affinity, "bound to a user",
                              "the user enrolls the device themselves",
                              "these devices are enrolled without a user", &out.user_affinity));
  if (out.locked && !out.supervised) {
    // Apple: is_mdm_removable=false only with is_supervised (FLAGS_INVALID).
    return Status::InvalidArgument("a locked profile needs a supervised device", "method_rule");
  }
  return out;
}

nlohmann::json EnrollmentMethodsJson() {
  nlohmann::json methods = nlohmann::json::array();
  for (const auto& t : EnrollmentMethods()) {
    methods.push_back({{"method", t.name},
                       {"description", t.description},
                       {"platforms", t.platforms},
                       {"factory_reset", t.factory_reset},
                       {"user_affinity", RuleName(t.user_affinity)},
                       {"locked", RuleName(t.locked)},
                       {"supervised", RuleName(t.supervised)},
                       {"verifies_machine_info", t.verifies_machine_info}});
  }
  return {{"methods", methods}};
}

}  // namespace mdmgw::configurator

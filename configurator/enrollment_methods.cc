#include "configurator/enrollment_methods.h"

namespace mdmgw::configurator {
namespace {

constexpr MethodTraits kTraits[] = {
    {"dep", true, true, true, true},
    {"usb-sa", true, true, true, true},
    {"usb-direct", false, false, false, false},
    {"ota", false, false, true, false},
};

}  // namespace

const MethodTraits& TraitsOf(EnrollmentMethod method) { return kTraits[static_cast<int>(method)]; }

std::optional<EnrollmentMethod> ParseEnrollmentMethod(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (kTraits[i].name == name) return static_cast<EnrollmentMethod>(i);
  }
  return std::nullopt;
}

}  // namespace mdmgw::configurator

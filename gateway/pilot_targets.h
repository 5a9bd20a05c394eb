// PilotTargets: answers the DEP assigner's "which devices is this profile for?" from the gateway
// enrollment profile's pilot groups (their serial numbers); no groups = every device.
#pragma once

#include "configurator/enrollment_profile_service.h"
#include "dep/dep_targets.h"
#include "store/profile_store.h"

namespace mdmgw::gateway {

class PilotTargets final : public dep::DepTargets {
 public:
  PilotTargets(configurator::EnrollmentProfileService& profiles, store::ProfileStore& store)
      : profiles_(profiles), store_(store) {}
  Result<std::optional<std::set<std::string>>> TargetedSerials(
      const std::string& enrollment_profile) override;

 private:
  configurator::EnrollmentProfileService& profiles_;
  store::ProfileStore& store_;
};

}  // namespace mdmgw::gateway

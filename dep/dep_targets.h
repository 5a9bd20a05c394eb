// DepTargets: which devices a DEP profile is meant for when it was made from a gateway enrollment
// profile with pilot groups (a staged roll-out). The dep module asks; the gateway answers from
// the enrollment profiles and groups (dep does not depend on configurator).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "common/result.h"

namespace mdmgw::dep {

class DepTargets {
 public:
  virtual ~DepTargets() = default;
  // The serials |enrollment_profile| is rolled out to (its pilot groups' devices), or nullopt
  // when it is for every device.
  virtual Result<std::optional<std::set<std::string>>> TargetedSerials(
      const std::string& enrollment_profile) = 0;
};

}  // namespace mdmgw::dep

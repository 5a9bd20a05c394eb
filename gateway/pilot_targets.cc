#include "gateway/pilot_targets.h"

namespace mdmgw::gateway {

Result<std::optional<std::set<std::string>>> PilotTargets::TargetedSerials(
    const std::string& enrollment_profile) {
  auto p = profiles_.Get(enrollment_profile);
  if (!p.ok()) return p.status();
  if (p->pilot_groups.empty()) return std::optional<std::set<std::string>>();
  std::set<std::string> serials;
  for (const auto& name : p->pilot_groups) {
    auto g = store_.GetGroup(name);
    if (!g.ok()) {
      if (g.status().IsNotFound()) continue;  // a deleted group targets nobody
      return g.status();
    }
    serials.insert(g->serials.begin(), g->serials.end());
  }
  return std::optional<std::set<std::string>>(std::move(serials));
}

}  // namespace mdmgw::gateway

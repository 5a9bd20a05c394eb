#include "gateway/stale_device_cleanup.h"

#include "common/log.h"

namespace mdmgw::gateway {

StaleDeviceCleanup::StaleDeviceCleanup(store::EnrollmentStore& enrollments, const Clock& clock,
                                       int stale_after_days)
    : enrollments_(enrollments), clock_(clock), stale_after_days_(stale_after_days) {}

Result<nlohmann::json> StaleDeviceCleanup::Run(bool dry_run) {
  std::lock_guard lock(mu_);
  int64_t cutoff = clock_.NowUnixSeconds() - int64_t{stale_after_days_} * 86400;
  nlohmann::json devices = nlohmann::json::array();
  // A dry run removes nothing, so it reads one batch: it reports the oldest 10,000.
  const int batch_size = dry_run ? 10000 : 500;
  constexpr size_t kMaxReported = 10000;  // removals are all counted; the list is capped
  int64_t count = 0;
  while (true) {
    auto batch = enrollments_.ListExpiredIdentities(cutoff, batch_size);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    size_t fresh = 0;
    for (const auto& identity : *batch) {
      nlohmann::json entry = {{"device_id", identity.device_id},
                              {"cert_not_after", identity.cert_not_after}};
      if (!dry_run) {
        auto removed = enrollments_.DeleteDevice(identity.device_id);
        if (!removed.ok()) return removed.status();
        entry["channels_removed"] = *removed;
      }
      ++fresh;
      ++count;
      if (devices.size() < kMaxReported) devices.push_back(entry);
    }
    if (dry_run || batch->size() < static_cast<size_t>(batch_size) || fresh == 0) break;
  }
  log::Info("stale device cleanup",
            {{"dry_run", dry_run}, {"stale_after_days", stale_after_days_}, {"devices", count}});
  return nlohmann::json{{"dry_run", dry_run},
                        {"stale_after_days", stale_after_days_},
                        {"cutoff", cutoff},
                        {"count", count},
                        {"devices", devices}};
}

}  // namespace mdmgw::gateway

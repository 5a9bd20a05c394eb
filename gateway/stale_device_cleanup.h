// StaleDeviceCleanup: removes enrollments whose identity certificate expired more than
// |stale_after_days| ago (such a device can no longer authenticate: it must re-enroll, and its
// record would only clutter lists and pushes). Runs from the gateway's housekeeping (hourly) and on
// demand (POST /api/v1/devices/cleanup); a dry run reports without removing. Each run logs one line
// with what it found.
//
// Thread-safety: Run may be called from any thread; runs are serialised.
#pragma once

#include <nlohmann/json.hpp>

#include <mutex>

#include "common/clock.h"
#include "common/result.h"
#include "store/enrollment_store.h"

namespace mdmgw::gateway {

class StaleDeviceCleanup {
 public:
  StaleDeviceCleanup(store::EnrollmentStore& enrollments, const Clock& clock, int stale_after_days);

  // {"dry_run", "stale_after_days", "cutoff", "devices": [{device_id, cert_not_after,
  //  channels_removed}], "count"}.
  Result<nlohmann::json> Run(bool dry_run);

 private:
  store::EnrollmentStore& enrollments_;
  const Clock& clock_;
  int stale_after_days_;
  std::mutex mu_;
};

}  // namespace mdmgw::gateway

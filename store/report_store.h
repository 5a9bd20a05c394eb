// ReportStore: read-only questions across the roles' tables, for the admin's reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

// A device that was handed an enrollment profile but never finished (no TokenUpdate since).
struct StalledEnrollment {
  int64_t served_at = 0;
  std::string profile_id, method, serial, udid;
};

// A DEP device with a profile assigned that has never fetched its enrollment profile.
struct UnenrolledDepDevice {
  std::string server, serial, profile_uuid;
  int64_t assigned_at = 0;
};

class ReportStore {
 public:
  virtual ~ReportStore() = default;
  // The latest profile handed to each device (by UDID) at or before |served_before|, where the
  // device has sent no TokenUpdate since.
  virtual Result<std::vector<StalledEnrollment>> ListStalledEnrollments(int64_t served_before,
                                                                        int limit) = 0;
  // Current DEP devices assigned (through the gateway, or at Apple) at or before
  // |assigned_before| that never fetched an enrollment profile from the gateway.
  virtual Result<std::vector<UnenrolledDepDevice>> ListUnenrolledDepDevices(int64_t assigned_before,
                                                                            int limit) = 0;
  // Profiles handed out through links (no UDID known) at or before |served_before|.
  virtual Result<int64_t> CountAnonymousDownloads(int64_t served_before) = 0;
};

}  // namespace mdmgw::store

// One page of Apple's device lists (POST /server/devices, POST /devices/sync) read into store
// records: what the syncer applies. A pure function of the JSON, so it is fuzzed alone
// (tests/fuzz/dep_json_fuzz.cc): Apple's answers are input the gateway does not control.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/store.h"

namespace mdmgw::dep {

struct DepDevicePage {
  std::vector<store::DepDeviceRecord> records;  // devices without a serial are dropped
  std::string cursor;                           // empty when Apple sent none
  bool more_to_follow = false;
  int fetched = 0, added = 0, modified = 0, deleted = 0;  // by op_type (fetch: all "fetched")
};

// |from_sync|: a /devices/sync page (op_type and op_date per device); else a full fetch, which
// describes the present (op_date = |now|). Anything not shaped as Apple documents is skipped,
// never an error: a field of the wrong type reads as empty.
DepDevicePage ParseDepDevicePage(const nlohmann::json& page, bool from_sync, int64_t now);

}  // namespace mdmgw::dep

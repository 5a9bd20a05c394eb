// Check-in and command-report bodies (XML and binary plists) as devices send them: the bounded
// pre-check (common/plist_guard) and libplist 2.2 behind it, then the message readers.
#include <cstdint>
#include <string_view>

#include "gateway/checkin_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  mdmgw::PlistLimits limits;
  (void)mdmgw::gateway::ParseCheckIn(body, limits);
  (void)mdmgw::gateway::ParseCommandReport(body, limits);
  return 0;
}

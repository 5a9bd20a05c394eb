// The signed MachineInfo a device POSTs in Setup Assistant: CMS (DER) verified against Apple's
// embedded device chain, and the plist inside it parsed alone.
#include <cstdint>
#include <string_view>

#include "configurator/apple_device_ca.h"
#include "configurator/machine_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto verifier = mdmgw::configurator::MachineInfoVerifier::Create(
                                   mdmgw::configurator::AppleDeviceCaBundle(), "")
                                   .value();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)verifier->Verify(bytes);
  (void)mdmgw::configurator::ParseMachineInfoPlist(bytes);
  return 0;
}

// Test-side MachineInfo: the plist a device in Setup Assistant sends and its CMS signature by a
// device identity (what a real device does; no public signed sample exists, PROTOCOLS.md §6).
#pragma once

#include <string>

namespace mdmgw::testing {

std::string MachineInfoPlist(const std::string& udid, const std::string& serial,
                             const std::string& os_version = "17.4", bool can_update = true);

// DER CMS SignedData (attached) of |content| by |cert_pem|/|key_pem|, the certificate included.
std::string SignMachineInfo(const std::string& cert_pem, const std::string& key_pem,
                            const std::string& content);

}  // namespace mdmgw::testing

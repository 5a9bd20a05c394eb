// The embedded Apple device CA bundle (root and intermediates) for MachineInfo signers.
#pragma once

#include <string_view>

namespace mdmgw::configurator {

// PEM: Apple Root CA, Apple iPhone Certification Authority, Apple iPhone Device CA.
std::string_view AppleDeviceCaBundle();

}  // namespace mdmgw::configurator

// The usb-sa export as a zip (libzip, in memory): enrollment-url.txt (the Profile URL for Apple
// Configurator's Servers preference), anchor-N.cer (DER trust anchors for that URL), serials.csv
// (the imported list, Configurator's format) and README.txt (the Prepare steps).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mdmgw::configurator {

struct UsbSaBundle {
  std::string enrollment_url;
  std::string server_name;
  std::vector<std::string> anchors_der;
  std::vector<std::pair<std::string, std::string>> serials;
  std::vector<std::string> steps;
};

Result<std::string> MakeUsbSaZip(const UsbSaBundle& bundle);

}  // namespace mdmgw::configurator

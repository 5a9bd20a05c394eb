// The Apple Configurator serial list an admin imports for a usb-sa profile: CSV lines
// "serial,details" with no header (Intune's format), at most 5,000 rows. Every bad line is
// reported with its number, and an import with any error stores nothing.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdmgw::configurator {

struct SerialImport {
  std::vector<std::pair<std::string, std::string>> rows;  // serial (upper case), details
  std::vector<std::pair<int, std::string>> errors;        // line number, what is wrong
  std::vector<std::string> warnings;
};

inline constexpr size_t kMaxImportedSerials = 5000;

SerialImport ParseConfiguratorCsv(std::string_view csv);

}  // namespace mdmgw::configurator

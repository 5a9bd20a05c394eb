// The admin web console's static files (gateway/console/), compiled into the binary by
// cmake/embed_files.cmake.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace mdmgw::gateway {

struct ConsoleAsset {
  std::string_view name;  // "index.html", "console.js", ...
  const char* data;
  size_t size;
};

const std::vector<ConsoleAsset>& ConsoleAssets();

}  // namespace mdmgw::gateway

// Apple's Device Assignment API answers: device pages (fetch and sync) and error bodies.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "dep/dep_device_page.h"
#include "dep/dep_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  (void)mdmgw::dep::ParseDepDevicePage(json, false, 1);
  (void)mdmgw::dep::ParseDepDevicePage(json, true, 1);
  int status = size > 0 ? 400 + data[0] % 200 : 500;
  (void)mdmgw::dep::ClassifyDepError(status, bytes);
  return 0;
}

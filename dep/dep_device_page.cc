#include "dep/dep_device_page.h"

#include "dep/server_token.h"

namespace mdmgw::dep {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

store::DepDeviceRecord ToRecord(const nlohmann::json& d, bool from_sync, int64_t now) {
  store::DepDeviceRecord r;
  r.serial = Str(d, "serial_number");
  r.model = Str(d, "model");
  r.description = Str(d, "description");
  r.color = Str(d, "color");
  r.os = Str(d, "os");
  r.device_family = Str(d, "device_family");
  r.profile_status = Str(d, "profile_status");
  r.profile_uuid = Str(d, "profile_uuid");
  r.updated_at = now;
  if (from_sync) {
    r.op_type = Str(d, "op_type");
    auto date = ParseRfc3339(Str(d, "op_date"));
    r.op_date = date.ok() ? *date : now;
    r.deleted = r.op_type == "deleted";
  } else {
    // A full fetch describes the present: newer than any event already stored.
    r.op_date = now;
  }
  return r;
}

}  // namespace

DepDevicePage ParseDepDevicePage(const nlohmann::json& page, bool from_sync, int64_t now) {
  DepDevicePage out;
  if (!page.is_object()) return out;
  auto devices = page.find("devices");
  if (devices != page.end() && devices->is_array()) {
    out.records.reserve(devices->size());
    for (const auto& d : *devices) {
      store::DepDeviceRecord r = ToRecord(d, from_sync, now);
      if (r.serial.empty()) continue;
      if (!from_sync) {
        ++out.fetched;
      } else if (r.op_type == "added") {
        ++out.added;
      } else if (r.op_type == "deleted") {
        ++out.deleted;
      } else {
        ++out.modified;
      }
      out.records.push_back(std::move(r));
    }
  }
  out.cursor = Str(page, "cursor");
  auto more = page.find("more_to_follow");
  out.more_to_follow = more != page.end() && more->is_boolean() && more->get<bool>();
  return out;
}

}  // namespace mdmgw::dep

// Routing: which core MDM serves a device — the authority switch. A default upstream (the
// configured --upstream-url), named extra upstreams, and overrides per group (by serial, first
// matching rule wins) and per device (by UDID / EnrollmentID, above groups). Moving a group to
// another core is one PUT /api/v1/routing; the next check-in of those devices goes there, with no
// re-enrollment (their identity and push token stay valid: the gateway fronts both cores).
//
// Document (JSON, stored whole):
//   {"default": "core-a",                       // optional; "default" = the configured upstream
//    "upstreams": {"core-b": {"url": "http://b:9000/mdm", "checkin_url": "..."}},
//    "groups": [{"group": "pilot", "upstream": "core-b"}],
//    "devices": {"UDID-1": "core-b"}}
//
// Thread-safety: all methods thread-safe; the active document is swapped under a mutex.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/enrollment_store.h"
#include "store/profile_store.h"

namespace mdmgw::gateway {

struct UpstreamTarget {
  std::string name;         // "default" or a name from the document
  std::string url;          // command channel (and check-in unless checkin_url is set)
  std::string checkin_url;  // "" = url
  const std::string& CheckInUrl() const { return checkin_url.empty() ? url : checkin_url; }
};

class Routing {
 public:
  // |default_target|: the configured upstream (url may be empty: no core configured).
  Routing(store::EnrollmentStore& enrollments, store::ProfileStore& groups,
          UpstreamTarget default_target);

  // Loads the stored document (none stored = everything to the default).
  Status Load();
  // Validates (names, URLs, known groups, referenced upstreams), stores, and makes it active.
  // InvalidArgument naming what is wrong; nothing changes then.
  Status Put(const nlohmann::json& document, int64_t now);
  nlohmann::json Get() const;  // the active document, with the configured default filled in

  // The upstream for a device. |serial| may be "" (then read from the device's enrollment when a
  // group rule needs it). Unavailable when no core is configured for it.
  Result<UpstreamTarget> Resolve(const std::string& device_id, const std::string& serial) const;

 private:
  struct Table {
    nlohmann::json document = nlohmann::json::object();
    std::map<std::string, UpstreamTarget> upstreams;  // "default" included
    std::string default_name = "default";
    std::vector<std::pair<std::string, std::string>> groups;  // group → upstream, in order
    std::map<std::string, std::string> devices;               // device id → upstream
  };
  Result<std::shared_ptr<const Table>> Build(const nlohmann::json& document) const;

  store::EnrollmentStore& enrollments_;
  store::ProfileStore& groups_;
  UpstreamTarget default_;
  mutable std::mutex mu_;
  std::shared_ptr<const Table> table_;
};

}  // namespace mdmgw::gateway

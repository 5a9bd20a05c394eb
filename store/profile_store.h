// ProfileStore: the organisation's enrollment profiles (DESIGN §6). What a profile says lives in
// one JSON document the configurator module owns (configurator/enrollment_profile); the store
// keeps it with the fields it must index or keep unique.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

struct EnrollmentProfileRecord {
  std::string id;    // "ep_" + random hex, stable: the profile's PayloadIdentifier derives from it
  std::string name;  // unique, the admin's
  std::string method;  // dep, usb-sa, usb-direct, ota, dem
  std::string settings_json;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class ProfileStore {
 public:
  virtual ~ProfileStore() = default;
  // AlreadyExists when another profile has the name.
  virtual Status CreateEnrollmentProfile(const EnrollmentProfileRecord& record) = 0;
  // NotFound / AlreadyExists (name taken by another profile).
  virtual Status UpdateEnrollmentProfile(const EnrollmentProfileRecord& record) = 0;
  // By id, or by name when no id matches. NotFound.
  virtual Result<EnrollmentProfileRecord> GetEnrollmentProfile(const std::string& id_or_name) = 0;
  // Ordered by name.
  virtual Result<std::vector<EnrollmentProfileRecord>> ListEnrollmentProfiles() = 0;
  // NotFound.
  virtual Status DeleteEnrollmentProfile(const std::string& id) = 0;
};

}  // namespace mdmgw::store

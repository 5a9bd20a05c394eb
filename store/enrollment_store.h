// EnrollmentStore: the devices (and user channels) that enrolled, with what pushing them needs:
// the APNs token and PushMagic from their latest TokenUpdate. Check-in recording (issue 6) writes
// it; the push service reads it and marks tokens APNs calls unregistered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

struct EnrollmentRecord {
  std::string id;         // the enrollment id the core MDM uses (the UDID for a device channel)
  std::string device_id;  // UDID (or EnrollmentID for user enrollment)
  std::string type;       // "Device", "User", "User Enrollment (Device)", ...
  std::string topic;      // APNs topic from the check-in; must equal the push cert's
  std::string push_token_hex;                  // lowercase hex of the TokenUpdate Token
  std::string push_magic;                      // PushMagic, sent verbatim; never logged
  int64_t token_updated_at_ms = 0;             // when the TokenUpdate carrying this token arrived
  std::optional<int64_t> token_invalid_at_ms;  // APNs 410 timestamp that made the token stale
  int64_t created_at = 0;                      // Unix seconds
  int64_t updated_at = 0;
};

class EnrollmentStore {
 public:
  virtual ~EnrollmentStore() = default;
  // Inserts or replaces by id; a new token clears token_invalid_at_ms.
  virtual Status PutEnrollment(const EnrollmentRecord& record) = 0;
  // NotFound when no such id.
  virtual Result<EnrollmentRecord> GetEnrollment(const std::string& id) = 0;
  // The records for |ids| that exist, in any order (missing ids are simply absent).
  virtual Result<std::vector<EnrollmentRecord>> GetEnrollments(
      const std::vector<std::string>& ids) = 0;
  // Up to |limit| records with id > |after|, ordered by id (pagination).
  virtual Result<std::vector<EnrollmentRecord>> ListEnrollments(const std::string& after,
                                                                int limit) = 0;
  // APNs answered 410 with |apns_timestamp_ms|: marks the token invalid only if the stored
  // TokenUpdate is older than that (a newer TokenUpdate means the device has a fresh token).
  // Returns whether the mark was applied. NotFound when no such id.
  virtual Result<bool> MarkPushTokenInvalid(const std::string& id, int64_t apns_timestamp_ms) = 0;
};

}  // namespace mdmgw::store

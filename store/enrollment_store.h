// EnrollmentStore: the devices (and user channels) that enrolled, with what pushing them needs:
// the APNs token and PushMagic from their latest TokenUpdate, the device details from
// Authenticate, the identity certificate bound to each device, and the routing document (which
// core MDM serves which devices). Check-in recording writes it; the push service reads it and
// marks tokens APNs calls unregistered.
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
  // From check-ins (empty for records written through PutEnrollment).
  std::string status = "enrolled";  // "authenticated", "enrolled" (TokenUpdate), "checked_out"
  std::string serial, model, os_version, device_name;
  std::string user_id, user_short_name;  // a user channel's user
  bool awaiting_configuration = false;
  std::optional<std::string> sealed_unlock_token;  // SecretBox-sealed; never logged
  std::string enrollment_method;  // dep, usb-sa, usb-direct, ota, ... (the profile it came from)
  std::string dep_server;         // the DEP server that lists its serial, if any
  int64_t last_seen_at = 0;       // Unix seconds of its latest check-in or command report
};

// The identity certificate a device authenticated with (bound at Authenticate).
struct DeviceIdentityRecord {
  std::string device_id;
  std::string cert_sha256;     // lowercase hex of the DER's SHA-256
  int64_t cert_not_after = 0;  // Unix seconds
  int64_t bound_at = 0;
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

  // Check-in recording. Each call is one transaction.
  // Authenticate: binds |identity| to the device (replacing an earlier binding: a reinstalled
  // profile brings a new identity) and upserts the device channel's details with status
  // "authenticated"; fills enrollment_method and dep_server from what the gateway served that
  // serial/UDID. The push token, if any, is kept (a TokenUpdate follows).
  virtual Status RecordAuthenticate(const EnrollmentRecord& details,
                                    const DeviceIdentityRecord& identity) = 0;
  // TokenUpdate: upserts the channel |r.id| with token, PushMagic, topic, unlock token (kept when
  // absent), AwaitingConfiguration, user keys; status "enrolled". A new token clears the invalid
  // mark. A channel first seen here (no Authenticate through this gateway) is created.
  virtual Status RecordTokenUpdate(const EnrollmentRecord& r) = 0;
  // CheckOut: the channel (and, for a device channel, its user channels) marked "checked_out".
  virtual Status RecordCheckOut(const std::string& id, int64_t at) = 0;
  // Marks the channel seen at |at| (no-op for an unknown id).
  virtual Status TouchEnrollment(const std::string& id, int64_t at) = 0;
  // NotFound when the device has no bound identity.
  virtual Result<DeviceIdentityRecord> GetDeviceIdentity(const std::string& device_id) = 0;
  // Binds without touching the enrollment (a device first seen after an authority switch).
  virtual Status PutDeviceIdentity(const DeviceIdentityRecord& identity) = 0;
  // Devices whose identity expired before |not_after_before|, oldest first.
  virtual Result<std::vector<DeviceIdentityRecord>> ListExpiredIdentities(int64_t not_after_before,
                                                                          int limit) = 0;
  // Removes the device: its identity and every channel with that device_id. Returns the number of
  // channels removed.
  virtual Result<int64_t> DeleteDevice(const std::string& device_id) = 0;

  // The routing document (JSON text; see gateway/routing.h). NotFound when never set.
  virtual Result<std::string> GetRouting() = 0;
  virtual Status PutRouting(const std::string& document, int64_t at) = 0;
};

}  // namespace mdmgw::store

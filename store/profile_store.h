// ProfileStore: the organisation's enrollment profiles (DESIGN §6). What a profile says lives in
// one JSON document the configurator module owns (configurator/enrollment_profile); the store
// keeps it with the fields it must index or keep unique.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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

// A device's step through enrollment: "profile_served" when the gateway handed it a profile.
struct EnrollmentEventRecord {
  int64_t id = 0;  // assigned by the store
  int64_t at = 0;  // Unix seconds
  std::string event;
  std::string profile_id, method, serial, udid;
  std::string detail;  // JSON: product, OS version, signer, ...
};

// The gateway's device-identity CA (one per deployment).
struct EnrollmentCaRecord {
  std::string cert_pem;
  std::string sealed_key;  // SecretBox(key PEM, "enrollment-ca.key")
  int64_t created_at = 0;
};

// A link that hands out a profile: a USB-Direct download link (reusable until it expires), an
// OTA invitation for one user (used once), or a device enrollment manager's link (up to its
// max_uses enrollments). Only the token's SHA-256 is stored.
struct EnrollmentLinkRecord {
  std::string token_hash;  // hex SHA-256 of the token
  std::string kind;        // usb-direct, ota-invitation, dem
  std::string profile_id;
  std::string subject;  // the invited user, or the manager's name ("" for usb-direct)
  int64_t created_at = 0;
  int64_t expires_at = 0;  // Unix seconds; 0 = never
  int64_t max_uses = 0;    // 0 = unlimited
  int64_t uses = 0;
  int64_t revoked_at = 0;
};

// The self-service portal's branding: a JSON document (configurator/portal_branding.h) and the
// logo image, if any.
struct PortalRecord {
  std::string document;
  std::optional<std::string> logo;  // PNG or JPEG bytes
  std::string logo_type;            // image/png, image/jpeg; "" without a logo
  int64_t updated_at = 0;
};

// A named group of devices (serial numbers) and users, for staged roll-outs (pilot groups).
struct GroupRecord {
  std::string name;
  std::vector<std::string> serials;
  std::vector<std::string> users;
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
  // NotFound. The profile's imported serials go with it.
  virtual Status DeleteEnrollmentProfile(const std::string& id) = 0;

  // Apple Configurator serial lists (usb-sa): the whole list replaced atomically.
  virtual Status ReplaceProfileSerials(
      const std::string& profile_id,
      const std::vector<std::pair<std::string, std::string>>& serials_and_details) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListProfileSerials(
      const std::string& profile_id) = 0;
  virtual Result<bool> HasProfileSerial(const std::string& profile_id,
                                        const std::string& serial) = 0;

  // Groups: members replaced as a whole.
  virtual Status PutGroup(const GroupRecord& record) = 0;
  virtual Result<GroupRecord> GetGroup(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<GroupRecord>> ListGroups() = 0;          // by name, members too
  virtual Status DeleteGroup(const std::string& name) = 0;            // NotFound
  // Whether |value| is a member (of |kind| "serial" or "user") of any of |groups|.
  virtual Result<bool> IsGroupMember(const std::vector<std::string>& groups,
                                     const std::string& kind, const std::string& value) = 0;

  // NotFound before the first one is made.
  virtual Result<EnrollmentCaRecord> GetEnrollmentCa() = 0;
  // Stores |record| unless a CA is stored already (then the stored one stays).
  virtual Status PutEnrollmentCaIfAbsent(const EnrollmentCaRecord& record) = 0;

  virtual Status CreateEnrollmentLink(const EnrollmentLinkRecord& record) = 0;
  // NotFound for an unknown token.
  virtual Result<EnrollmentLinkRecord> GetEnrollmentLink(const std::string& token_hash) = 0;
  // Counts one use of the link when it is live at |now| (not revoked, not expired, uses left)
  // and returns it as it is after the use; NotFound for an unknown token, FailedPrecondition
  // (reason "link_expired", "link_used_up", "link_revoked") otherwise — nothing counted then.
  virtual Result<EnrollmentLinkRecord> UseEnrollmentLink(const std::string& token_hash,
                                                         int64_t now) = 0;
  // Links of |kind| (all kinds when ""), newest first.
  virtual Result<std::vector<EnrollmentLinkRecord>> ListEnrollmentLinks(
      const std::string& kind) = 0;

  virtual Status RecordEnrollmentEvent(const EnrollmentEventRecord& record) = 0;
  // Events with id > |after|, oldest first.
  virtual Result<std::vector<EnrollmentEventRecord>> ListEnrollmentEvents(int64_t after,
                                                                          int limit) = 0;

  // The portal branding (one per gateway). NotFound when never set.
  virtual Result<PortalRecord> GetPortal() = 0;
  virtual Status PutPortal(const PortalRecord& record) = 0;
};

}  // namespace mdmgw::store

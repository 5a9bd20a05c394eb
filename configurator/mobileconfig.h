// MobileconfigTemplate: the enrollment profile (.mobileconfig, an XML plist built with libplist,
// PROTOCOLS.md §4): top-level Configuration; root-certificate payloads for the gateway's TLS
// anchors; the identity payload (com.apple.security.scep, .acme, or .pkcs12 with a fresh device
// identity from the gateway's enrollment CA); com.apple.mdm (ServerURL,
// CheckInURL, Topic, IdentityCertificateUUID, AccessRights 8191, SignMessage, CheckOutWhenRemoved,
// ServerCapabilities); PayloadRemovalDisallowed when the profile is locked.
//
// Built once per profile version and kept: Render() only writes fresh PayloadUUIDs into the
// cached XML (every build must carry new UUIDs; identifiers stay stable per profile), so signing
// is the only real per-request cost.
//
// Thread-safety: immutable after Build; Render from any thread.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "configurator/enrollment_profile.h"

namespace mdmgw::configurator {

struct MobileconfigContext {
  std::string topic;                          // the push certificate's topic (Subject UID)
  std::string server_url;                     // https://.../mdm/connect
  std::string checkin_url;                    // https://.../mdm/checkin
  std::vector<std::string> anchor_certs_der;  // trust anchors for the gateway's TLS
  std::string scep_challenge;                 // in clear, only while building
};

// What changes per build besides the UUIDs: a pkcs12 profile's identity and its password.
struct RenderIdentity {
  std::string pkcs12_der;
  std::string password;
};

class MobileconfigTemplate {
 public:
  static Result<MobileconfigTemplate> Build(const EnrollmentProfile& profile,
                                            const MobileconfigContext& context);
  // The profile's XML plist with fresh PayloadUUIDs (and, for pkcs12 profiles, |identity|).
  std::string Render(const RenderIdentity* identity = nullptr) const;
  bool needs_identity() const { return needs_identity_; }
  // The stable PayloadIdentifier of the whole profile.
  const std::string& identifier() const { return identifier_; }

 private:
  std::vector<std::string> segments_;  // XML between slots: slots_.size() + 1 pieces
  std::vector<int> slots_;             // the UUID (by index) each slot takes; kPkcs12Slot and
                                       // kPasswordSlot for a pkcs12 identity
  bool needs_identity_ = false;
  int uuid_count_ = 0;
  std::string identifier_;
};

// A random (version 4) UUID, upper case, as Apple's tools write them.
std::string NewPayloadUuid();

}  // namespace mdmgw::configurator

// The contexts (AEAD associated data) that bind each kind of sealed secret to its purpose and
// owner (see SecretBox). One list, so the services that seal and the master-key rotation that
// re-seals everything cannot drift apart: a sealed column whose context is not here cannot be
// rotated.
#pragma once

#include <string>
#include <string_view>

namespace mdmgw::seal_context {

// push_certificates.sealed_key: the APNs push certificate's private key, bound to its topic.
inline std::string ApnsKey(std::string_view topic) { return "apns.key:" + std::string(topic); }
// apns_pending_csr.sealed_key: the key behind a CSR waiting for Apple's certificate.
inline constexpr std::string_view kApnsCsrKey = "apns.csr-key";
// dep_servers.sealed_key: the token-exchange key pair of a DEP server.
inline std::string DepKey(std::string_view server) { return "dep.key:" + std::string(server); }
// dep_servers.sealed_token: the decrypted server token (OAuth consumer key, secrets).
inline std::string DepToken(std::string_view server) { return "dep.token:" + std::string(server); }
// enrollment_ca.sealed_key: the CA that signs device identities in enrollment profiles.
inline constexpr std::string_view kEnrollmentCaKey = "enrollment-ca.key";
// enrollment_profiles.settings -> identity.sealed_challenge (base64): a SCEP challenge.
inline std::string ScepChallenge(std::string_view profile_id) {
  return "profile.scep:" + std::string(profile_id);
}
// enrollments.sealed_unlock_token: a device's UnlockToken, bound to its device id.
inline std::string UnlockToken(std::string_view device_id) {
  return "unlock_token:" + std::string(device_id);
}
// master_key_check.sealed: a known value that tells whether a key is the store's master key.
inline constexpr std::string_view kMasterKeyCheck = "master-key-check";

}  // namespace mdmgw::seal_context

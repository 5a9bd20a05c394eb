// PushCertificate: an APNs MDM push certificate with its private key, parsed from what admins
// upload (PEM certificate + PEM key, or PKCS#12 + password) and validated the way APNs will judge
// it (PROTOCOLS.md §1, "Topic extraction" and "Push certificate lifecycle").
//
// Every refusal is a Status whose reason() is a stable code the admin API returns as is:
//   bad_certificate  no readable X.509 certificate in the upload
//   no_topic         the certificate has no Subject UID
//   invalid_topic    the UID does not start with "com.apple.mgmt."
//   missing_key      no private key in the upload (and none pending from a CSR)
//   encrypted_key    the PEM key is encrypted and no password was given
//   bad_password     the password does not open the key or the PKCS#12 file
//   bad_key          the key is not a readable private key
//   key_mismatch     the key does not belong to the certificate
//   expired          notAfter is in the past (or notBefore in the future: not_yet_valid)
//   bad_pkcs12       the PKCS#12 file is not readable
//   topic_changed    (CheckTopicContinuity) a different topic than the stored certificate's
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace mdmgw::apns {

inline constexpr std::string_view kMdmTopicPrefix = "com.apple.mgmt.";

struct PushCertificate {
  std::string topic;       // Subject UID
  std::string subject;     // RFC 2253 one-line form
  std::string serial;      // lowercase hex
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
  std::string cert_pem;         // the leaf, then any chain certificates that came with it
  Secret<std::string> key_pem;  // unencrypted PKCS#8 PEM

  int64_t DaysLeft(int64_t now) const { return (not_after - now) / 86400; }
};

// |pem| holds at least a certificate; the key may be in |pem| too (concatenated) or in |key_pem|.
// |password| opens an encrypted PEM key (empty = none given). |now| is Unix seconds.
Result<PushCertificate> ParsePemPushCertificate(std::string_view pem, std::string_view key_pem,
                                                std::string_view password, int64_t now);

// A PKCS#12 (.p12/.pfx) file, as Keychain Access exports it. Legacy encryptions (RC2, 3DES) are
// accepted: OpenSSL's legacy provider is loaded on first need.
Result<PushCertificate> ParsePkcs12PushCertificate(std::string_view der, std::string_view password,
                                                   int64_t now);

// The Subject UID of a PEM certificate, validated (no_topic / invalid_topic / bad_certificate).
Result<std::string> PushTopicFromPem(std::string_view cert_pem);

// Refuses replacing |stored_topic| by |new_topic| unless |force| (topic_changed). An empty
// |stored_topic| (nothing stored) always passes.
Status CheckTopicContinuity(std::string_view stored_topic, std::string_view new_topic, bool force);

}  // namespace mdmgw::apns

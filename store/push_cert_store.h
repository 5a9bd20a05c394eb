// PushCertStore: the one APNs MDM push certificate, its private key sealed by the secret box, and
// the key of a CSR generated for vendor signing (kept until the signed certificate comes back).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace mdmgw::store {

struct PushCertRecord {
  std::string topic;  // Subject UID, com.apple.mgmt.External.<uuid>
  std::string cert_pem;
  std::string sealed_key;  // SecretBox::Seal(key PEM, "apns.key:" + topic)
  int64_t not_after = 0;   // Unix seconds
  int64_t updated_at = 0;
  std::string subject;     // one-line RFC 2253 form
  std::string serial;      // hex
  int64_t not_before = 0;  // Unix seconds
  std::string apple_id;    // the Apple ID that created it at identity.apple.com, if told
};

// A private key generated with a CSR by POST /api/v1/apns/csr.
struct PendingCsrRecord {
  std::string csr_pem;
  std::string sealed_key;  // SecretBox::Seal(key PEM, "apns.csr-key")
  int64_t created_at = 0;
};

class PushCertStore {
 public:
  virtual ~PushCertStore() = default;
  // NotFound when no certificate has been stored.
  virtual Result<PushCertRecord> GetPushCert() = 0;
  // Replaces the stored certificate (or stores the first).
  virtual Status PutPushCert(const PushCertRecord& record) = 0;
  // NotFound when there was none.
  virtual Status DeletePushCert() = 0;

  // The newest CSR key (one at a time; a new CSR replaces the previous). NotFound when none.
  virtual Result<PendingCsrRecord> GetPendingCsr() = 0;
  virtual Status PutPendingCsr(const PendingCsrRecord& record) = 0;
  // Succeeds when there was none.
  virtual Status DeletePendingCsr() = 0;
};

}  // namespace mdmgw::store

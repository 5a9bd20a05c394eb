// PushCertStore: the one APNs MDM push certificate, its private key sealed by the secret box.
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
};

}  // namespace mdmgw::store

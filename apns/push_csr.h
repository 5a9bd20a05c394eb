// Push certificate signing request: the first step of the APNs certificate lifecycle
// (PROTOCOLS.md §1 step 1). An RSA-2048 key and a PKCS#10 CSR that the MDM vendor signs and the
// customer uploads to identity.apple.com. The key stays with the gateway (sealed in the store)
// so the admin later uploads only the certificate Apple returns.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "common/result.h"
#include "common/secret.h"

namespace mdmgw::apns {

struct PushCsr {
  std::string csr_pem;
  Secret<std::string> key_pem;
};

// |common_name| is free text (Apple ignores it; it helps the admin recognise the request).
Result<PushCsr> GeneratePushCsr(const std::string& common_name, const std::string& email);

}  // namespace mdmgw::apns

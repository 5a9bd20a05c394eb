// Self-signed TLS server certificates, so `mdm-gateway serve` runs with no configuration.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace mdmgw::crypto {

struct CertificateAndKey {
  std::string cert_pem;
  Secret<std::string> key_pem;
};

// An ECDSA P-256 key and a self-signed certificate for |dns_names| (first one is the CN; each goes
// in subjectAltName, as do 127.0.0.1 and ::1 when "localhost" is listed), valid |days| from now.
Result<CertificateAndKey> GenerateSelfSignedServerCertificate(
    const std::vector<std::string>& dns_names, int days);

}  // namespace mdmgw::crypto

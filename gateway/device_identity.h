// DeviceIdentityVerifier: who is checking in. A device proves its identity with the certificate of
// its enrollment identity, either
//  * in the TLS handshake (mTLS; the server captures the leaf), or
//  * as the signer of `Mdm-Signature`: base64 DER CMS SignedData, detached, over the exact body;
//  * or, only from a trusted proxy address, as an RFC 9440 `Client-Cert: :<base64 DER>:` header
//    (a load balancer in front that terminated TLS). From anywhere else that header is ignored —
//    the forwarder builds the upstream's identity header from the verified certificate alone.
// The certificate must chain to the configured device CA bundle(s) (the devices CA file and the
// gateway's own enrollment CA) with the TLS-client purpose (no EKU, or clientAuth).
//
// A successful chain check is remembered per certificate (SHA-256 of the DER) for 5 minutes and
// never past the certificate's notAfter: decoding a certificate's key in OpenSSL 3 (OSSL_DECODER)
// and checking its chain cost more than everything else a check-in does, and a device presents the
// same identity on every request. The decoded certificate is kept too: an `Mdm-Signature` whose
// one embedded certificate is remembered is read without it (crypto::SplitSignedData) and verified
// against the kept X509, so its key is not decoded again. Failures are not remembered.
//
// Thread-safety: Verify is const and safe from any thread (the X509_STORE is only read; the cache
// has its own mutex).
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/request.h"

namespace mdmgw::gateway {

struct DeviceIdentity {
  std::string cert_der;
  std::string sha256_hex;  // of cert_der
  int64_t not_after = 0;   // Unix seconds
  std::string source;      // "mtls", "mdm-signature", "proxy-header"
};

// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or one address).
struct Cidr {
  std::vector<unsigned char> network;  // 4 or 16 bytes
  int prefix = 0;
  static Result<Cidr> Parse(std::string_view text);
  bool Contains(std::string_view address) const;  // "ip" or "ip:port" / "[v6]:port"
};

class DeviceIdentityVerifier {
 public:
  // |ca_pem| holds every trusted CA certificate (PEM, concatenated); at least one.
  static Result<std::unique_ptr<DeviceIdentityVerifier>> Create(const std::string& ca_pem,
                                                                std::vector<Cidr> trusted_proxies);
  ~DeviceIdentityVerifier();

  // Unauthenticated with reason "no_identity" (nothing presented), "bad_signature" (Mdm-Signature
  // unreadable or not over this body), or "untrusted_certificate" (does not chain / wrong use /
  // expired), saying why.
  Result<DeviceIdentity> Verify(const net::Request& request) const;

  // Chain check of one DER certificate (tests, cleanup).
  Result<DeviceIdentity> VerifyCertificate(const std::string& der, std::string source) const;

 private:
  DeviceIdentityVerifier() = default;
  Result<DeviceIdentity> VerifySignature(std::string_view header, std::string_view body) const;
  // Full decode + chain check of |der| (no cache); |decoded| receives the certificate.
  Result<DeviceIdentity> CheckChain(const std::string& der, std::string source,
                                    std::shared_ptr<X509>* decoded) const;
  // The remembered decoded certificate for |sha| (hex SHA-256 of its DER) if its check is still
  // fresh, else null.
  std::shared_ptr<X509> Remembered(const std::string& sha, int64_t now, int64_t* not_after) const;
  void Remember(const std::string& sha, int64_t not_after, std::shared_ptr<X509> cert,
                int64_t now) const;
  static constexpr int64_t kRememberSeconds = 300;  // how long a chain check is trusted
  // Remembered identities (a decoded certificate is ~3 KB); lapsed entries go first when full.
  static constexpr size_t kMaxRemembered = 100000;
  X509_STORE* store_ = nullptr;
  std::vector<Cidr> trusted_proxies_;
  struct Verified {
    int64_t not_after = 0;
    int64_t checked_at = 0;
    std::shared_ptr<X509> cert;  // decoded once; only read afterwards (safe across threads)
  };
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Verified> verified_;  // GUARDED_BY(cache_mu_)
};

}  // namespace mdmgw::gateway

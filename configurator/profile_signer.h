// ProfileSigner: signs enrollment profiles as CMS SignedData (RFC 5652) — DER, content attached,
// SHA-256, signed attributes (content type, signing time, message digest), the signer
// certificate and its chain in `certificates` — as PROTOCOLS.md §4 "Signing" asks.
//
// Why the DER is assembled here rather than by OpenSSL's CMS_sign: CMS_sign spends ~40 µs of
// ASN.1 and BIO work per profile on top of the private-key operation, and DESIGN §10 wants the
// key operation to be nearly the whole cost. Everything but the content, the digest, the time and
// the signature is the same for every profile a signer makes, so it is encoded once here; the
// signature itself is OpenSSL's (EVP_DigestSign). Every output is checked by OpenSSL's own CMS
// verifier and the openssl command in the tests.
//
// Thread-safety: immutable after creation; Sign from any thread (OpenSSL 3 keys are shareable).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/crypto/openssl_ptr.h"
#include "common/result.h"

namespace mdmgw::configurator {

class ProfileSigner {
 public:
  // |cert_pem|: the signer certificate first, then any intermediates; |key_pem| its key (RSA or
  // EC).
  static Result<std::unique_ptr<ProfileSigner>> FromPem(std::string_view cert_pem,
                                                        std::string_view key_pem);
  static Result<std::unique_ptr<ProfileSigner>> FromFiles(const std::string& cert_file,
                                                          const std::string& key_file);
  ~ProfileSigner();

  // The DER SignedData around |content|, signed now.
  Result<std::string> Sign(std::string_view content) const;
  // The same at a given time (Unix seconds; tests).
  Result<std::string> SignAt(std::string_view content, int64_t unix_seconds) const;
  const std::string& subject() const { return subject_; }

 private:
  ProfileSigner() = default;
  crypto::X509Ptr cert_;
  crypto::EvpPkeyPtr key_;
  EVP_MD* sha256_ = nullptr;
  std::string subject_;
  // Pre-encoded DER pieces (see profile_signer.cc).
  std::string certificates_;  // [0] IMPLICIT SET OF Certificate
  std::string signer_id_;     // IssuerAndSerialNumber
  std::string signature_algorithm_;
};

}  // namespace mdmgw::configurator

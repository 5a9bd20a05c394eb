// ProfileSigner: signs enrollment profiles as CMS SignedData — DER, content attached, SHA-256 —
// in-process with OpenSSL (PROTOCOLS.md §4 "Signing"), with the signer certificate and its chain
// in `certificates` so a device can build the path. The certificate, key and chain are parsed
// once; each Sign is one private-key operation.
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
  // |cert_pem|: the signer certificate first, then any intermediates; |key_pem| its key.
  static Result<std::unique_ptr<ProfileSigner>> FromPem(std::string_view cert_pem,
                                                        std::string_view key_pem);
  static Result<std::unique_ptr<ProfileSigner>> FromFiles(const std::string& cert_file,
                                                          const std::string& key_file);
  ~ProfileSigner();

  // The DER SignedData around |content|.
  Result<std::string> Sign(std::string_view content) const;
  const std::string& subject() const { return subject_; }

 private:
  ProfileSigner() = default;
  crypto::X509Ptr cert_;
  crypto::EvpPkeyPtr key_;
  STACK_OF(X509)* chain_ = nullptr;
  std::string subject_;
};

}  // namespace mdmgw::configurator

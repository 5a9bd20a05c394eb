#include "apns/push_csr.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/crypto/openssl_ptr.h"

namespace mdmgw::apns {

Result<PushCsr> GeneratePushCsr(const std::string& common_name, const std::string& email) {
  if (common_name.empty() || common_name.size() > 64) {
    return Status::InvalidArgument("common_name must be 1 to 64 characters", "bad_common_name");
  }
  crypto::EvpPkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return Status::Internal("RSA key generation failed: " + crypto::OpenSslErrors());
  std::unique_ptr<X509_REQ, crypto::FnDeleter<X509_REQ_free>> req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  auto add = [name](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!add("CN", common_name) || (!email.empty() && !add("emailAddress", email))) {
    return Status::InvalidArgument("the CSR subject is not valid: " + crypto::OpenSslErrors(),
                                   "bad_common_name");
  }
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return Status::Internal("CSR signing failed: " + crypto::OpenSslErrors());
  }
  crypto::BioPtr csr_bio(BIO_new(BIO_s_mem()));
  crypto::BioPtr key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(csr_bio.get(), req.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PushCsr out;
  out.csr_pem = crypto::BioToString(csr_bio.get());
  out.key_pem = Secret<std::string>(crypto::BioToString(key_bio.get()));
  return out;
}

}  // namespace mdmgw::apns

#include "configurator/profile_signer.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/encoding.h"

namespace mdmgw::configurator {

ProfileSigner::~ProfileSigner() {
  if (chain_ != nullptr) sk_X509_pop_free(chain_, X509_free);
}

Result<std::unique_ptr<ProfileSigner>> ProfileSigner::FromPem(std::string_view cert_pem,
                                                              std::string_view key_pem) {
  std::unique_ptr<ProfileSigner> s(new ProfileSigner());
  crypto::BioPtr certs = crypto::MemBio(cert_pem);
  s->cert_.reset(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
  if (!s->cert_) {
    return Status::InvalidArgument("profile signing certificate: no PEM certificate (" +
                                       crypto::OpenSslErrors() + ")",
                                   "bad_signing_certificate");
  }
  s->chain_ = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(s->chain_, extra);
  }
  (void)crypto::OpenSslErrors();  // the end of the PEM list leaves a "no start line" error
  crypto::BioPtr key = crypto::MemBio(key_pem);
  s->key_.reset(PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr));
  if (!s->key_) {
    return Status::InvalidArgument("profile signing key: not a PEM private key",
                                   "bad_signing_key");
  }
  if (X509_check_private_key(s->cert_.get(), s->key_.get()) != 1) {
    (void)crypto::OpenSslErrors();
    return Status::InvalidArgument("the profile signing key does not match its certificate",
                                   "key_mismatch");
  }
  char* name = X509_NAME_oneline(X509_get_subject_name(s->cert_.get()), nullptr, 0);
  if (name != nullptr) {
    s->subject_ = name;
    OPENSSL_free(name);
  }
  return s;
}

Result<std::unique_ptr<ProfileSigner>> ProfileSigner::FromFiles(const std::string& cert_file,
                                                                const std::string& key_file) {
  auto cert = ReadFile(cert_file);
  if (!cert.ok()) return cert.status().WithContext("profile signing certificate");
  auto key = ReadFile(key_file);
  if (!key.ok()) return key.status().WithContext("profile signing key");
  return FromPem(*cert, *key);
}

Result<std::string> ProfileSigner::Sign(std::string_view content) const {
  crypto::BioPtr in = crypto::MemBio(content);
  // Attached (no CMS_DETACHED), binary content as given; SHA-256 is OpenSSL 3's default digest.
  CMS_ContentInfo* cms = CMS_sign(cert_.get(), key_.get(), chain_, in.get(), CMS_BINARY);
  if (cms == nullptr) {
    return Status::Internal("signing the profile failed: " + crypto::OpenSslErrors());
  }
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  CMS_ContentInfo_free(cms);
  if (len <= 0) return Status::Internal("encoding the signed profile failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace mdmgw::configurator

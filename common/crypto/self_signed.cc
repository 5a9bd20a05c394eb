#include "common/crypto/self_signed.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/crypto/openssl_ptr.h"
#include "common/random.h"

namespace mdmgw::crypto {
namespace {

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

Result<CertificateAndKey> GenerateSelfSignedServerCertificate(
    const std::vector<std::string>& dns_names, int days) {
  if (dns_names.empty()) {
    return Status::InvalidArgument("at least one DNS name is required");
  }
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return Status::Internal("EC key generation failed: " + OpenSslErrors());
  }
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  // A random positive 64-bit serial.
  std::string serial_bytes = RandomBytes(8);
  serial_bytes[0] = static_cast<char>(serial_bytes[0] & 0x7f);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()), 8, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mdm-gateway"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(dns_names[0].c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  for (const auto& dns : dns_names) {
    if (!san.empty()) san += ",";
    san += "DNS:" + dns;
    if (dns == "localhost") san += ",IP:127.0.0.1,IP:::1";
  }
  if (!AddExtension(cert.get(), NID_subject_alt_name, san) ||
      !AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth")) {
    return Status::Internal("adding certificate extensions failed: " + OpenSslErrors());
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Status::Internal("self-signing failed: " + OpenSslErrors());
  }

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return Status::Internal("PEM encoding failed: " + OpenSslErrors());
  }
  return CertificateAndKey{BioToString(cert_bio.get()),
                           Secret<std::string>(BioToString(key_bio.get()))};
}

}  // namespace mdmgw::crypto

#include "apns/push_certificate.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <vector>

#include "common/crypto/openssl_ptr.h"

namespace mdmgw::apns {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;
using crypto::X509Ptr;

using crypto::BioToString;
using crypto::MemBio;

std::string CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioToString(bio.get());
}

Secret<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  Secret<std::string> out(BioToString(bio.get()));
  return out;
}

int64_t AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string SerialHex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out(hex != nullptr ? hex : "");
  OPENSSL_free(hex);
  BN_free(bn);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string SubjectLine(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  return BioToString(bio.get());
}

Result<std::string> TopicOf(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, NID_userId, -1);
  if (index < 0) {
    return Status::InvalidArgument(
        "the certificate has no Subject UID, so it has no APNs topic; is this the MDM push "
        "certificate from identity.apple.com?",
        "no_topic");
  }
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return Status::InvalidArgument("the Subject UID is unreadable", "no_topic");
  std::string topic(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  if (topic.rfind(kMdmTopicPrefix, 0) != 0) {
    return Status::InvalidArgument("the Subject UID \"" + topic + "\" does not start with \"" +
                                       std::string(kMdmTopicPrefix) +
                                       "\": not an MDM push certificate",
                                   "invalid_topic");
  }
  return topic;
}

bool LooksEncrypted(std::string_view pem) {
  return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

bool HasPrivateKeyBlock(std::string_view pem) {
  return pem.find("PRIVATE KEY-----") != std::string_view::npos;
}

int PasswordCallback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* password = static_cast<const std::string_view*>(user);
  if (password == nullptr || password->empty()) return -1;
  int n = static_cast<int>(std::min<size_t>(password->size(), static_cast<size_t>(size)));
  std::memcpy(buf, password->data(), static_cast<size_t>(n));
  return n;
}

Result<EvpPkeyPtr> ReadKey(std::string_view pem, std::string_view password) {
  if (LooksEncrypted(pem) && password.empty()) {
    return Status::InvalidArgument(
        "the private key is encrypted; send its password (field \"password\")", "encrypted_key");
  }
  BioPtr bio = MemBio(pem);
  std::string_view pw = password;
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, PasswordCallback, &pw));
  if (!key) {
    std::string detail = crypto::OpenSslErrors();
    if (LooksEncrypted(pem)) {
      return Status::InvalidArgument("the password does not open the private key", "bad_password");
    }
    return Status::InvalidArgument("the private key is unreadable (" + detail + ")", "bad_key");
  }
  return key;
}

// Shared by both input forms once certificate, chain and key are in hand.
Result<PushCertificate> Validate(X509* cert, const std::vector<X509Ptr>& chain, EVP_PKEY* key,
                                 int64_t now) {
  auto topic = TopicOf(cert);
  if (!topic.ok()) return topic.status();
  if (key == nullptr) {
    return Status::InvalidArgument(
        "no private key: send the key with the certificate (concatenated PEM, a \"key\" part, or "
        "PKCS#12), or generate a CSR first with POST /api/v1/apns/csr",
        "missing_key");
  }
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "the private key does not belong to this certificate (its public key differs)",
        "key_mismatch");
  }
  PushCertificate out;
  out.topic = *topic;
  out.subject = SubjectLine(cert);
  out.serial = SerialHex(cert);
  out.not_before = AsnTimeToUnix(X509_get0_notBefore(cert));
  out.not_after = AsnTimeToUnix(X509_get0_notAfter(cert));
  if (out.not_after <= now) {
    return Status::InvalidArgument(
        "the certificate expired (notAfter " + std::to_string(out.not_after) +
            "); renew it at identity.apple.com with the same Apple ID to keep the topic",
        "expired");
  }
  if (out.not_before > now) {
    return Status::InvalidArgument(
        "the certificate is not valid yet (notBefore " + std::to_string(out.not_before) + ")",
        "not_yet_valid");
  }
  out.cert_pem = CertToPem(cert);
  for (const auto& extra : chain) out.cert_pem += CertToPem(extra.get());
  out.key_pem = KeyToPem(key);
  return out;
}

// Loaded once and kept for the process's life (the handles stay reachable from these statics).
OSSL_PROVIDER* g_legacy_provider = nullptr;
OSSL_PROVIDER* g_default_provider = nullptr;

void LoadLegacyProviderOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Loading any provider explicitly stops OpenSSL from loading "default" implicitly, so both.
    g_legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
    g_default_provider = OSSL_PROVIDER_load(nullptr, "default");
    // Unloaded before OpenSSL's own exit cleanup (atexit runs in reverse order), so the legacy
    // module's state is freed rather than left behind when OpenSSL unmaps it.
    std::atexit([] {
      if (g_legacy_provider != nullptr) OSSL_PROVIDER_unload(g_legacy_provider);
      if (g_default_provider != nullptr) OSSL_PROVIDER_unload(g_default_provider);
    });
  });
}

}  // namespace

Result<PushCertificate> ParsePemPushCertificate(std::string_view pem, std::string_view key_pem,
                                                std::string_view password, int64_t now) {
  BioPtr bio = MemBio(pem);
  std::vector<X509Ptr> certs;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
  ERR_clear_error();  // the loop ends on "no start line"
  if (certs.empty()) {
    return Status::InvalidArgument(
        "no PEM certificate (-----BEGIN CERTIFICATE-----) found in the upload", "bad_certificate");
  }
  X509Ptr leaf = std::move(certs.front());
  certs.erase(certs.begin());
  auto topic = TopicOf(leaf.get());
  if (!topic.ok()) return topic.status();

  std::string_view key_source = HasPrivateKeyBlock(key_pem) ? key_pem : pem;
  EvpPkeyPtr key;
  if (HasPrivateKeyBlock(key_source)) {
    auto read = ReadKey(key_source, password);
    if (!read.ok()) return read.status();
    key = std::move(read).value();
  } else if (!key_pem.empty()) {
    return Status::InvalidArgument("the key part holds no PEM private key", "bad_key");
  }
  return Validate(leaf.get(), certs, key.get(), now);
}

Result<PushCertificate> ParsePkcs12PushCertificate(std::string_view der, std::string_view password,
                                                   int64_t now) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (p12 == nullptr) {
    ERR_clear_error();
    return Status::InvalidArgument("the upload is not a PKCS#12 file", "bad_pkcs12");
  }
  std::string pw(password);
  if (PKCS12_verify_mac(p12, pw.c_str(), static_cast<int>(pw.size())) != 1) {
    PKCS12_free(p12);
    ERR_clear_error();
    return Status::InvalidArgument("the password does not open the PKCS#12 file", "bad_password");
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  int parsed = PKCS12_parse(p12, pw.c_str(), &key, &cert, &ca);
  if (parsed != 1) {
    // Keychain and older OpenSSL export with RC2-40 / 3DES, which OpenSSL 3 keeps in "legacy".
    ERR_clear_error();
    LoadLegacyProviderOnce();
    parsed = PKCS12_parse(p12, pw.c_str(), &key, &cert, &ca);
  }
  PKCS12_free(p12);
  if (parsed != 1) {
    return Status::InvalidArgument(
        "the PKCS#12 file could not be decrypted (" + crypto::OpenSslErrors() + ")", "bad_pkcs12");
  }
  X509Ptr leaf(cert);
  EvpPkeyPtr owned_key(key);
  std::vector<X509Ptr> chain;
  for (int i = 0; ca != nullptr && i < sk_X509_num(ca); ++i)
    chain.emplace_back(sk_X509_value(ca, i));
  sk_X509_free(ca);  // the certificates now belong to |chain|
  if (!leaf) {
    return Status::InvalidArgument("the PKCS#12 file holds no certificate", "bad_certificate");
  }
  return Validate(leaf.get(), chain, owned_key.get(), now);
}

Result<std::string> PushTopicFromPem(std::string_view cert_pem) {
  BioPtr bio = MemBio(cert_pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM certificate", "bad_certificate");
  }
  return TopicOf(cert.get());
}

Status CheckTopicContinuity(std::string_view stored_topic, std::string_view new_topic, bool force) {
  if (stored_topic.empty() || stored_topic == new_topic || force) return Status::Ok();
  return Status::FailedPrecondition(
      "the new certificate's topic \"" + std::string(new_topic) +
          "\" differs from the stored topic \"" + std::string(stored_topic) +
          "\": every enrolled device would stop answering pushes and must re-enroll. Renew the "
          "existing certificate at identity.apple.com with the Apple ID that created it, or "
          "repeat the upload with ?force=1 to replace it anyway",
      "topic_changed");
}

}  // namespace mdmgw::apns

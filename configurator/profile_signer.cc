#include "configurator/profile_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>

#include "common/encoding.h"

namespace mdmgw::configurator {
namespace {

// DER tag-length-value with a definite length (short or long form).
std::string Tlv(unsigned char tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  size_t n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    std::string len;
    for (size_t v = n; v > 0; v >>= 8) len.insert(len.begin(), static_cast<char>(v & 0xFF));
    out += static_cast<char>(0x80 | len.size());
    out += len;
  }
  out.append(content.data(), content.size());
  return out;
}

std::string Bytes(std::initializer_list<unsigned char> b) {
  return std::string(reinterpret_cast<const char*>(b.begin()), b.size());
}

// OIDs and algorithm identifiers, DER.
const std::string kOidData =
    Bytes({0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01});
const std::string kOidSignedData =
    Bytes({0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02});
const std::string kOidContentType =
    Bytes({0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x03});
const std::string kOidMessageDigest =
    Bytes({0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x04});
const std::string kOidSigningTime =
    Bytes({0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x05});
const std::string kSha256AlgId = Bytes(
    {0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00});
const std::string kRsaAlgId = Bytes({0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                     0x01, 0x01, 0x01, 0x05, 0x00});  // rsaEncryption, as CMS uses
const std::string kEcdsaSha256AlgId =
    Bytes({0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02});

template <typename T, typename F>
std::string Der(T* obj, F i2d) {
  int len = i2d(obj, nullptr);
  if (len <= 0) return "";
  std::string out(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
  i2d(obj, &p);
  return out;
}

// UTCTime "YYMMDDHHMMSSZ" (RFC 5652 wants UTCTime for 1950–2049).
std::string UtcTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return Tlv(0x17, buf);
}

}  // namespace

ProfileSigner::~ProfileSigner() {
  if (sha256_ != nullptr) EVP_MD_free(sha256_);
}

Result<std::unique_ptr<ProfileSigner>> ProfileSigner::FromPem(std::string_view cert_pem,
                                                              std::string_view key_pem) {
  std::unique_ptr<ProfileSigner> s(new ProfileSigner());
  crypto::BioPtr certs = crypto::MemBio(cert_pem);
  s->cert_.reset(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
  if (!s->cert_) {
    return Status::InvalidArgument(
        "profile signing certificate: no PEM certificate (" + crypto::OpenSslErrors() + ")",
        "bad_signing_certificate");
  }
  std::string cert_set = Der(s->cert_.get(), i2d_X509);
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    cert_set += Der(extra, i2d_X509);
    X509_free(extra);
  }
  (void)crypto::OpenSslErrors();  // the end of the PEM list leaves a "no start line" error
  crypto::BioPtr key = crypto::MemBio(key_pem);
  s->key_.reset(PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr));
  if (!s->key_) {
    return Status::InvalidArgument("profile signing key: not a PEM private key", "bad_signing_key");
  }
  if (X509_check_private_key(s->cert_.get(), s->key_.get()) != 1) {
    (void)crypto::OpenSslErrors();
    return Status::InvalidArgument("the profile signing key does not match its certificate",
                                   "key_mismatch");
  }
  if (EVP_PKEY_is_a(s->key_.get(), "RSA")) {
    s->signature_algorithm_ = kRsaAlgId;
  } else if (EVP_PKEY_is_a(s->key_.get(), "EC")) {
    s->signature_algorithm_ = kEcdsaSha256AlgId;
  } else {
    return Status::InvalidArgument("profile signing keys are RSA or EC", "bad_signing_key");
  }
  s->sha256_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (s->sha256_ == nullptr) return Status::Internal("SHA-256 is not available");
  s->certificates_ = Tlv(0xA0, cert_set);
  s->signer_id_ = Tlv(
      0x30,
      Der(X509_get_issuer_name(s->cert_.get()), i2d_X509_NAME) +
          Der(const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(s->cert_.get())), i2d_ASN1_INTEGER));
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
  return SignAt(content, static_cast<int64_t>(std::time(nullptr)));
}

Result<std::string> ProfileSigner::SignAt(std::string_view content, int64_t unix_seconds) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(content.data(), content.size(), digest, &digest_len, sha256_, nullptr) != 1) {
    return Status::Internal("hashing the profile failed: " + crypto::OpenSslErrors());
  }
  // Signed attributes, in DER SET OF order (by encoding: these three sort by their lengths).
  std::string attrs =
      Tlv(0x30, kOidContentType + Tlv(0x31, kOidData)) +
      Tlv(0x30, kOidSigningTime + Tlv(0x31, UtcTime(unix_seconds))) +
      Tlv(0x30,
          kOidMessageDigest +
              Tlv(0x31, Tlv(0x04, std::string_view(reinterpret_cast<char*>(digest), digest_len))));
  std::string signed_attrs = Tlv(0x31, attrs);  // what is signed: the SET OF encoding

  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, sha256_, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signed_attrs.data()),
                     signed_attrs.size()) != 1) {
    return Status::Internal("signing the profile failed: " + crypto::OpenSslErrors());
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(signed_attrs.data()),
                     signed_attrs.size()) != 1) {
    return Status::Internal("signing the profile failed: " + crypto::OpenSslErrors());
  }
  sig.resize(sig_len);

  // In SignerInfo the attributes are [0] IMPLICIT: the SET's content under tag A0.
  std::string signer_info = Tlv(0x30, Bytes({0x02, 0x01, 0x01}) + signer_id_ + kSha256AlgId +
                                          Tlv(0xA0, attrs) + signature_algorithm_ + Tlv(0x04, sig));
  std::string signed_data = Tlv(0x30, Bytes({0x02, 0x01, 0x01}) + Tlv(0x31, kSha256AlgId) +
                                          Tlv(0x30, kOidData + Tlv(0xA0, Tlv(0x04, content))) +
                                          certificates_ + Tlv(0x31, signer_info));
  return Tlv(0x30, kOidSignedData + Tlv(0xA0, signed_data));
}

}  // namespace mdmgw::configurator

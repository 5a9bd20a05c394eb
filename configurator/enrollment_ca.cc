#include "configurator/enrollment_ca.h"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"
#include "common/seal_contexts.h"

namespace mdmgw::configurator {
namespace {

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A positive random 128-bit serial, as hex.
std::string SetRandomSerial(X509* cert) {
  std::string bytes = RandomBytes(16);
  bytes[0] = static_cast<char>(bytes[0] & 0x7f);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  return HexEncode(bytes);
}

std::string Pem(X509* cert) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return crypto::BioToString(bio.get());
}

crypto::EvpPkeyPtr NewRsaKey() { return crypto::EvpPkeyPtr(EVP_RSA_gen(2048)); }

}  // namespace

Result<std::unique_ptr<EnrollmentCa>> EnrollmentCa::LoadOrCreate(store::ProfileStore& store,
                                                                 const SecretBox& box,
                                                                 size_t spare_keys) {
  std::unique_ptr<EnrollmentCa> ca(new EnrollmentCa());
  auto stored = store.GetEnrollmentCa();
  if (!stored.ok() && !stored.status().IsNotFound()) return stored.status();
  if (!stored.ok()) {
    crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
    crypto::X509Ptr cert(X509_new());
    if (!key || !cert) return Status::Internal("enrollment CA key generation failed");
    X509_set_version(cert.get(), 2);
    SetRandomSerial(cert.get());
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("mdm-gateway"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("mdm-gateway device enrollment CA"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (!AddExtension(cert.get(), cert.get(), NID_basic_constraints,
                      "critical,CA:TRUE,pathlen:0") ||
        !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
        X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
      return Status::Internal("enrollment CA certificate: " + crypto::OpenSslErrors());
    }
    crypto::BioPtr key_bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    store::EnrollmentCaRecord record;
    record.cert_pem = Pem(cert.get());
    record.sealed_key =
        box.Seal(crypto::BioToString(key_bio.get()), seal_context::kEnrollmentCaKey);
    record.created_at = static_cast<int64_t>(std::time(nullptr));
    MDMGW_RETURN_IF_ERROR(store.PutEnrollmentCaIfAbsent(record));
    stored = store.GetEnrollmentCa();  // another instance may have stored its own first
    if (!stored.ok()) return stored.status();
    log::Info("enrollment CA created", {{"subject", "mdm-gateway device enrollment CA"}});
  }
  auto key_pem = box.Open(stored->sealed_key, seal_context::kEnrollmentCaKey);
  if (!key_pem.ok()) return Status::DataLoss("the enrollment CA key does not open");
  crypto::BioPtr kb = crypto::MemBio(key_pem->Expose());
  ca->key_.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  crypto::BioPtr cb = crypto::MemBio(stored->cert_pem);
  ca->cert_.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!ca->key_ || !ca->cert_) return Status::DataLoss("the stored enrollment CA is unreadable");
  ca->cert_pem_ = stored->cert_pem;
  ca->spare_keys_ = spare_keys;
  return ca;
}

EnrollmentCa::~EnrollmentCa() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (filler_.joinable()) filler_.join();
}

void EnrollmentCa::FillLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (spare_.size() >= spare_keys_) {
      cv_.wait(lock, [this] { return stopping_ || spare_.size() < spare_keys_; });
      continue;
    }
    lock.unlock();
    crypto::EvpPkeyPtr key = NewRsaKey();
    lock.lock();
    if (key) spare_.push_back(std::move(key));
  }
}

crypto::EvpPkeyPtr EnrollmentCa::TakeKey() {
  {
    std::lock_guard lock(mu_);
    // The pool starts with the first identity issued: an instance that never enrolls a device
    // with a pkcs12 profile never spends CPU on keys.
    if (spare_keys_ > 0 && !filler_.joinable() && !stopping_) {
      filler_ = std::thread([this] { FillLoop(); });
    }
    if (!spare_.empty()) {
      crypto::EvpPkeyPtr key = std::move(spare_.front());
      spare_.pop_front();
      cv_.notify_all();
      return key;
    }
  }
  cv_.notify_all();
  return NewRsaKey();  // the pool ran dry: make one here
}

Result<DeviceIdentity> EnrollmentCa::Issue(const std::string& common_name, int days) {
  crypto::EvpPkeyPtr key = TakeKey();
  crypto::X509Ptr cert(X509_new());
  if (!key || !cert) return Status::Internal("device identity key generation failed");
  DeviceIdentity out;
  X509_set_version(cert.get(), 2);
  out.serial_hex = SetRandomSerial(cert.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  if (!AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), cert_.get(), NID_key_usage,
                    "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(cert.get(), cert_.get(), NID_ext_key_usage, "clientAuth") ||
      !AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid") ||
      X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0) {
    return Status::Internal("device identity certificate: " + crypto::OpenSslErrors());
  }
  // 24 characters from a 32-letter alphabet: 120 bits, typed by nobody (the profile carries it).
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string random = RandomBytes(24);
  for (char c : random) out.password += kAlphabet[static_cast<unsigned char>(c) % 32];
  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, cert_.get());
  PKCS12* p12 = PKCS12_create(out.password.c_str(), common_name.c_str(), key.get(), cert.get(),
                              chain, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                              NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 2048, -1, 0);
  sk_X509_free(chain);
  if (p12 == nullptr ||
      PKCS12_set_mac(p12, out.password.c_str(), -1, nullptr, 0, 2048, EVP_sha1()) != 1) {
    if (p12 != nullptr) PKCS12_free(p12);
    return Status::Internal("PKCS#12 packing failed: " + crypto::OpenSslErrors());
  }
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12, &der);
  PKCS12_free(p12);
  if (len <= 0) return Status::Internal("PKCS#12 encoding failed");
  out.pkcs12_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace mdmgw::configurator

#include "configurator/machine_info.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <plist/plist.h>

#include "common/plist_guard.h"

#include "common/crypto/openssl_ptr.h"

namespace mdmgw::configurator {
namespace {

constexpr size_t kMaxMachineInfoBytes = 64 << 10;

X509_STORE* StoreFrom(std::string_view pem, bool check_time, int* count) {
  X509_STORE* store = X509_STORE_new();
  crypto::BioPtr bio = crypto::MemBio(pem);
  *count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++*count;
  }
  (void)crypto::OpenSslErrors();
  if (!check_time) X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
  // Apple's intermediates are in the bundle as trusted certificates; accept a chain that ends at
  // any of them (the device sends its leaf, sometimes without the intermediates).
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  return store;
}

std::string StringItem(plist_t dict, const char* key) {
  return PlistStringValue(plist_dict_get_item(dict, key));  // a NUL byte must not abort us
}

}  // namespace

Result<MachineInfo> ParseMachineInfoPlist(std::string_view xml) {
  if (xml.size() > kMaxMachineInfoBytes) {
    return Status::InvalidArgument("MachineInfo is larger than 64 KiB", "bad_machine_info");
  }
  // XML only: a binary plist here is not what Setup Assistant sends (and libplist 2.2's binary
  // parser is not safe on untrusted input).
  if (xml.find("<plist") == std::string_view::npos) {
    return Status::InvalidArgument("MachineInfo must be an XML plist", "bad_machine_info");
  }
  plist_t root = nullptr;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &root);
  if (root == nullptr || plist_get_node_type(root) != PLIST_DICT) {
    if (root != nullptr) plist_free(root);
    return Status::InvalidArgument("MachineInfo is not a plist dictionary", "bad_machine_info");
  }
  MachineInfo m;
  m.udid = StringItem(root, "UDID");
  m.serial = StringItem(root, "SERIAL");
  m.product = StringItem(root, "PRODUCT");
  m.version = StringItem(root, "VERSION");
  m.os_version = StringItem(root, "OS_VERSION");
  m.imei = StringItem(root, "IMEI");
  m.meid = StringItem(root, "MEID");
  m.language = StringItem(root, "LANGUAGE");
  plist_t swu = plist_dict_get_item(root, "MDM_CAN_REQUEST_SOFTWARE_UPDATE");
  if (swu != nullptr && plist_get_node_type(swu) == PLIST_BOOLEAN) {
    uint8_t b = 0;
    plist_get_bool_val(swu, &b);
    m.can_request_software_update = b != 0;
  }
  plist_free(root);
  if (m.udid.empty() || m.serial.empty()) {
    return Status::InvalidArgument("MachineInfo lacks UDID or SERIAL", "bad_machine_info");
  }
  return m;
}

Result<std::unique_ptr<MachineInfoVerifier>> MachineInfoVerifier::Create(
    std::string_view apple_bundle_pem, std::string_view extra_bundle_pem) {
  std::unique_ptr<MachineInfoVerifier> v(new MachineInfoVerifier());
  int count = 0;
  v->apple_store_ = StoreFrom(apple_bundle_pem, /*check_time=*/false, &count);
  if (count == 0) {
    return Status::InvalidArgument("the Apple device CA bundle holds no certificate",
                                   "bad_ca_bundle");
  }
  if (!extra_bundle_pem.empty()) {
    v->extra_store_ = StoreFrom(extra_bundle_pem, /*check_time=*/true, &count);
    if (count == 0) {
      return Status::InvalidArgument("the MachineInfo CA file holds no certificate",
                                     "bad_ca_bundle");
    }
  }
  return v;
}

MachineInfoVerifier::~MachineInfoVerifier() {
  X509_STORE_free(static_cast<X509_STORE*>(apple_store_));
  X509_STORE_free(static_cast<X509_STORE*>(extra_store_));
}

Status MachineInfoVerifier::VerifyAppleDeviceCertificate(std::string_view cert_pem) const {
  crypto::BioPtr bio = crypto::MemBio(cert_pem);
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidArgument("not a PEM certificate", "bad_certificate");
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, static_cast<X509_STORE*>(apple_store_), cert.get(), nullptr);
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  if (ok != 1) {
    return Status::PermissionDenied(
        std::string("not issued by Apple's device CA: ") + X509_verify_cert_error_string(err),
        "untrusted_device");
  }
  return Status::Ok();
}

Result<MachineInfo> MachineInfoVerifier::Verify(std::string_view der) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
  if (cms == nullptr || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
    if (cms != nullptr) CMS_ContentInfo_free(cms);
    (void)crypto::OpenSslErrors();
    return Status::PermissionDenied("the body is not a CMS SignedData MachineInfo",
                                    "bad_machine_info_signature");
  }
  // 1. The signature over the content, by the certificate the message names (its own).
  crypto::BioPtr out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms, nullptr, nullptr, nullptr, out.get(),
                 CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    std::string why = crypto::OpenSslErrors();
    CMS_ContentInfo_free(cms);
    return Status::PermissionDenied("MachineInfo signature does not verify (" + why + ")",
                                    "bad_machine_info_signature");
  }
  std::string content = crypto::BioToString(out.get());
  STACK_OF(X509)* signers = CMS_get0_signers(cms);
  X509* signer =
      signers != nullptr && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : nullptr;
  // 2. The signer's chain: Apple's (time checks off) or the extra bundle's. Any purpose: device
  // identities carry no S/MIME usage. Intermediates may come in the message.
  bool apple = false, verified = false;
  std::string why = "no single signer";
  STACK_OF(X509)* carried = CMS_get1_certs(cms);
  for (void* store : {apple_store_, extra_store_}) {
    if (store == nullptr || signer == nullptr) continue;
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, static_cast<X509_STORE*>(store), signer, carried);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
    if (X509_verify_cert(ctx) == 1) {
      verified = true;
      apple = store == apple_store_;
    } else {
      why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
    X509_STORE_CTX_free(ctx);
    if (verified) break;
  }
  std::string subject;
  if (signer != nullptr) {
    char* name = X509_NAME_oneline(X509_get_subject_name(signer), nullptr, 0);
    if (name != nullptr) {
      subject = name;
      OPENSSL_free(name);
    }
  }
  sk_X509_pop_free(carried, X509_free);
  sk_X509_free(signers);
  CMS_ContentInfo_free(cms);
  (void)crypto::OpenSslErrors();
  if (!verified) {
    return Status::PermissionDenied("the MachineInfo signer is not a trusted device (" + why + ")",
                                    "untrusted_device");
  }
  auto info = ParseMachineInfoPlist(content);
  if (!info.ok()) return info.status();
  info->signer_subject = subject;
  info->apple_signed = apple;
  return info;
}

}  // namespace mdmgw::configurator

#include "gateway/device_identity.h"

#include <arpa/inet.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/crypto/digest.h"
#include "common/crypto/openssl_ptr.h"
#include "common/crypto/signed_data_split.h"
#include "common/encoding.h"

namespace mdmgw::gateway {
namespace {

Status NoIdentity() {
  return Status::Unauthenticated(
      "no device identity: present the enrollment identity by TLS client certificate or "
      "Mdm-Signature",
      "no_identity");
}

Status BadSignature(std::string why) {
  return Status::Unauthenticated("Mdm-Signature: " + why, "bad_signature");
}

std::string StripSpace(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (!std::isspace(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

// "ip:port", "[v6]:port", "ip" → the address bytes.
bool ParseAddress(std::string_view text, std::vector<unsigned char>* out) {
  std::string host(text);
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return false;
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    out->assign(buf, buf + 4);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    // An IPv4-mapped address compares as IPv4.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, buf)) {
      out->assign(buf + 12, buf + 16);
    } else {
      out->assign(buf, buf + 16);
    }
    return true;
  }
  return false;
}

int64_t NotAfter(X509* cert) {
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t) != 1) return 0;
  return static_cast<int64_t>(timegm(&t));
}

std::string Der(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return "";
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &p);
  return der;
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  Cidr c;
  std::string_view addr = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string p(text.substr(slash + 1));
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), ::isdigit)) {
      return Status::InvalidArgument("bad prefix length in " + std::string(text));
    }
    prefix = std::stoi(p);
  }
  std::string host(addr);
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    c.network.assign(buf, buf + 4);
  } else if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    c.network.assign(buf, buf + 16);
  } else {
    return Status::InvalidArgument("not an IP network: " + std::string(text));
  }
  int max = static_cast<int>(c.network.size() * 8);
  if (prefix < 0) prefix = max;
  if (prefix > max) return Status::InvalidArgument("prefix too long in " + std::string(text));
  c.prefix = prefix;
  return c;
}

bool Cidr::Contains(std::string_view address) const {
  std::vector<unsigned char> a;
  if (!ParseAddress(address, &a) || a.size() != network.size()) return false;
  int bits = prefix;
  for (size_t i = 0; i < a.size() && bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a[i] & mask) != (network[i] & mask)) return false;
  }
  return true;
}

Result<std::unique_ptr<DeviceIdentityVerifier>> DeviceIdentityVerifier::Create(
    const std::string& ca_pem, std::vector<Cidr> trusted_proxies) {
  std::unique_ptr<DeviceIdentityVerifier> v(new DeviceIdentityVerifier());
  v->store_ = X509_STORE_new();
  v->trusted_proxies_ = std::move(trusted_proxies);
  crypto::BioPtr bio = crypto::MemBio(ca_pem);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(v->store_, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the read loop ends on "no start line"
  if (added == 0) return Status::InvalidArgument("the device CA bundle holds no certificate");
  X509_STORE_set_purpose(v->store_, X509_PURPOSE_SSL_CLIENT);
  return v;
}

DeviceIdentityVerifier::~DeviceIdentityVerifier() {
  if (store_ != nullptr) X509_STORE_free(store_);
}

std::shared_ptr<X509> DeviceIdentityVerifier::Remembered(const std::string& sha, int64_t now,
                                                         int64_t* not_after) const {
  std::lock_guard lock(cache_mu_);
  auto it = verified_.find(sha);
  if (it == verified_.end() || now - it->second.checked_at >= kRememberSeconds ||
      now >= it->second.not_after) {
    return nullptr;
  }
  *not_after = it->second.not_after;
  return it->second.cert;
}

void DeviceIdentityVerifier::Remember(const std::string& sha, int64_t not_after,
                                      std::shared_ptr<X509> cert, int64_t now) const {
  std::lock_guard lock(cache_mu_);
  if (verified_.size() >= kMaxRemembered) {
    // Drop what has lapsed first; a table still full of live entries starts over.
    std::erase_if(verified_, [&](const auto& kv) {
      return now - kv.second.checked_at >= kRememberSeconds || now >= kv.second.not_after;
    });
    if (verified_.size() >= kMaxRemembered) verified_.clear();
  }
  verified_[sha] = {not_after, now, std::move(cert)};
}

Result<DeviceIdentity> DeviceIdentityVerifier::VerifyCertificate(const std::string& der,
                                                                 std::string source) const {
  std::string sha = HexEncode(crypto::Sha256(der));
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t not_after = 0;
  if (Remembered(sha, now, &not_after)) {
    return DeviceIdentity{der, sha, not_after, std::move(source)};
  }
  std::shared_ptr<X509> cert;
  auto checked = CheckChain(der, std::move(source), &cert);
  if (checked.ok()) Remember(sha, checked->not_after, std::move(cert), now);
  return checked;
}

Result<DeviceIdentity> DeviceIdentityVerifier::CheckChain(const std::string& der,
                                                          std::string source,
                                                          std::shared_ptr<X509>* decoded) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return Status::Unauthenticated("the identity certificate is not DER X.509",
                                   "untrusted_certificate");
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store_, cert.get(), nullptr);
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  if (ok != 1) {
    return Status::Unauthenticated(std::string("the identity certificate is not trusted: ") +
                                       X509_verify_cert_error_string(err),
                                   "untrusted_certificate");
  }
  DeviceIdentity id;
  id.cert_der = der;
  id.sha256_hex = HexEncode(crypto::Sha256(der));
  id.not_after = NotAfter(cert.get());
  id.source = std::move(source);
  *decoded = std::shared_ptr<X509>(cert.release(), X509_free);
  return id;
}

Result<DeviceIdentity> DeviceIdentityVerifier::VerifySignature(std::string_view header,
                                                               std::string_view body) const {
  auto der = Base64Decode(StripSpace(header));
  if (!der.ok() || der->empty()) return BadSignature("not base64");
  // Fast path: the one embedded certificate was decoded and chain-checked recently. OpenSSL then
  // reads the SignedData without it (no key decode) and finds the signer among |certs|.
  std::shared_ptr<X509> known;
  int64_t not_after = 0;
  std::string known_sha;
  auto split = crypto::SplitSignedData(*der);
  if (split && split->certificates.size() == 1) {
    known_sha = HexEncode(crypto::Sha256(split->certificates[0]));
    known = Remembered(known_sha, static_cast<int64_t>(std::time(nullptr)), &not_after);
  }
  crypto::BioPtr in = crypto::MemBio(known ? split->without_certificates : *der);
  CMS_ContentInfo* cms = d2i_CMS_bio(in.get(), nullptr);
  if (cms == nullptr) {
    ERR_clear_error();
    return BadSignature("not a DER CMS structure");
  }
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> guard(cms,
                                                                          CMS_ContentInfo_free);
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) return BadSignature("not SignedData");
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
    return BadSignature("expected exactly one signer");
  }
  crypto::BioPtr content = crypto::MemBio(body);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> certs(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
  if (known) sk_X509_push(certs.get(), known.get());
  // The signer's chain is checked below with the TLS-client purpose (device identities carry
  // clientAuth, which CMS_verify's S/MIME purpose would refuse).
  if (CMS_verify(cms, certs.get(), nullptr, content.get(), nullptr,
                 CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    ERR_clear_error();
    return BadSignature("the signature does not verify over this body");
  }
  if (known) {
    return DeviceIdentity{std::string(split->certificates[0]), known_sha, not_after,
                          "mdm-signature"};
  }
  STACK_OF(X509)* signers = CMS_get0_signers(cms);
  if (signers == nullptr || sk_X509_num(signers) != 1) {
    if (signers != nullptr) sk_X509_free(signers);
    return BadSignature("the signer certificate is not included");
  }
  std::string signer_der = Der(sk_X509_value(signers, 0));
  sk_X509_free(signers);
  return VerifyCertificate(signer_der, "mdm-signature");
}

Result<DeviceIdentity> DeviceIdentityVerifier::Verify(const net::Request& request) const {
  // A load balancer in front (trusted by address) may carry the certificate it verified.
  if (auto header = request.headers.Get("client-cert"); header && !trusted_proxies_.empty()) {
    bool trusted = false;
    for (const Cidr& c : trusted_proxies_) trusted = trusted || c.Contains(request.remote_address);
    std::string_view v = *header;
    if (trusted && v.size() > 2 && v.front() == ':' && v.back() == ':') {
      auto der = Base64Decode(StripSpace(v.substr(1, v.size() - 2)));
      if (der.ok()) return VerifyCertificate(*der, "proxy-header");
    }
  }
  Status tls_error = NoIdentity();
  if (request.peer_certificate && !request.peer_certificate->der.empty()) {
    auto id = VerifyCertificate(request.peer_certificate->der, "mtls");
    if (id.ok()) return id;
    tls_error = id.status();
  }
  if (auto sig = request.headers.Get("mdm-signature")) return VerifySignature(*sig, request.body);
  return tls_error;
}

}  // namespace mdmgw::gateway

#include "dep/server_token.h"

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/crypto/openssl_ptr.h"
#include "common/encoding.h"
#include "common/random.h"

namespace mdmgw::dep {
namespace {

using crypto::BioPtr;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, crypto::FnDeleter<CMS_ContentInfo_free>>;

using crypto::BioToString;
using crypto::MemBio;

Status NotSmime(std::string detail) {
  return Status::InvalidArgument(
      "the upload is not an S/MIME server token (.p7m from Apple Business Manager): " + detail,
      "not_smime");
}

// S/MIME text first (what the portal gives), then bare DER, then the base64 body alone.
CmsPtr ReadCms(std::string_view p7m) {
  BioPtr bio = MemBio(p7m);
  CmsPtr cms(SMIME_read_CMS(bio.get(), nullptr));
  if (cms) return cms;
  ERR_clear_error();
  bio = MemBio(p7m);
  cms.reset(d2i_CMS_bio(bio.get(), nullptr));
  if (cms) return cms;
  ERR_clear_error();
  size_t blank = p7m.find("\n\n");
  size_t crlf_blank = p7m.find("\r\n\r\n");
  std::string_view body = p7m;
  if (crlf_blank != std::string_view::npos &&
      (blank == std::string_view::npos || crlf_blank < blank)) {
    body = p7m.substr(crlf_blank + 4);
  } else if (blank != std::string_view::npos) {
    body = p7m.substr(blank + 2);
  }
  auto der = Base64Decode(body);
  if (!der.ok()) return nullptr;
  bio = MemBio(*der);
  cms.reset(d2i_CMS_bio(bio.get(), nullptr));
  ERR_clear_error();
  return cms;
}

Result<std::string> RequiredString(const nlohmann::json& doc, const char* key) {
  if (!doc.contains(key) || !doc[key].is_string() || doc[key].get<std::string>().empty()) {
    return Status::InvalidArgument(std::string("the server token has no \"") + key + "\"",
                                   "bad_token_json");
  }
  return doc[key].get<std::string>();
}

}  // namespace

OAuth1Credentials CredentialsOf(const ServerToken& token) {
  OAuth1Credentials c;
  c.consumer_key = token.consumer_key;
  c.consumer_secret = token.consumer_secret;
  c.token = token.access_token.Expose();
  c.token_secret = token.access_secret;
  return c;
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return Status::InvalidArgument("not an RFC 3339 time: " + s);
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  int64_t offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int sign = *rest == '-' ? -1 : 1;
    // Exactly "+HH:MM": checked character by character so a short offset ("+1:2") cannot move
    // |rest| past the end of the string (found by tests/fuzz/dep_json).
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(rest[1]) || !digit(rest[2]) || rest[3] != ':' || !digit(rest[4]) || !digit(rest[5]))
      return Status::InvalidArgument("bad time zone in " + s);
    int hh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int mm = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = sign * (hh * 3600 + mm * 60);
    rest += 6;
  } else {
    return Status::InvalidArgument("no time zone in " + s);
  }
  if (*rest != '\0') return Status::InvalidArgument("trailing text in " + s);
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

Result<TokenExchangeIdentity> GenerateTokenExchangeIdentity(const std::string& common_name,
                                                            int days) {
  crypto::EvpPkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return Status::Internal("RSA key generation failed: " + crypto::OpenSslErrors());
  crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  // A random 64-bit positive serial (RFC 5280 §4.1.2.2: unique per issuer; the issuer is itself).
  std::string serial_bytes = RandomBytes(8);
  serial_bytes[0] = static_cast<char>(serial_bytes[0] & 0x7f);
  BIGNUM* serial =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()), 8, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage,
                                            "critical,keyEncipherment,digitalSignature");
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return Status::Internal("signing the token-exchange certificate: " + crypto::OpenSslErrors());
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  TokenExchangeIdentity out;
  out.cert_pem = BioToString(cert_bio.get());
  out.key_pem = Secret<std::string>(BioToString(key_bio.get()));
  return out;
}

Result<ServerToken> DecryptServerToken(std::string_view p7m, std::string_view cert_pem,
                                       const Secret<std::string>& key_pem, int64_t now) {
  CmsPtr cms = ReadCms(p7m);
  if (!cms) return NotSmime("no CMS structure found");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_enveloped) {
    return NotSmime("the CMS content is not enveloped (encrypted) data");
  }
  BioPtr cert_bio = MemBio(cert_pem);
  crypto::X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio = MemBio(key_pem.Expose());
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!cert || !key) return Status::Internal("the stored token-exchange identity is unreadable");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(cms.get(), key.get(), cert.get(), nullptr, out.get(), 0) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "the token was not made for this server's certificate: download the certificate from "
        "GET /api/v1/dep/servers/{name}/certificate, upload it in Apple Business Manager, and "
        "download a new token",
        "wrong_key");
  }
  std::string plaintext = BioToString(out.get());
  auto token = ParseServerTokenPlaintext(plaintext, now);
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return token;
}

Result<ServerToken> ParseServerTokenPlaintext(std::string_view text, int64_t now) {
  constexpr std::string_view kBegin = "-----BEGIN MESSAGE-----";
  constexpr std::string_view kEnd = "-----END MESSAGE-----";
  std::string_view json;
  size_t begin = text.find(kBegin);
  if (begin != std::string_view::npos) {
    size_t start = begin + kBegin.size();
    size_t end = text.find(kEnd, start);
    json = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  } else {
    // No markers: the JSON follows the MIME headers' blank line (or is the whole text).
    size_t brace = text.find('{');
    json = brace == std::string_view::npos ? text : text.substr(brace);
  }
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) {
    return Status::InvalidArgument("the decrypted server token is not a JSON object",
                                   "bad_token_json");
  }
  ServerToken token;
  auto ck = RequiredString(doc, "consumer_key");
  auto cs = RequiredString(doc, "consumer_secret");
  auto at = RequiredString(doc, "access_token");
  auto as = RequiredString(doc, "access_secret");
  auto exp = RequiredString(doc, "access_token_expiry");
  for (const auto* r : {&ck, &cs, &at, &as, &exp}) {
    if (!r->ok()) return r->status();
  }
  auto expiry = ParseRfc3339(*exp);
  if (!expiry.ok()) {
    return Status::InvalidArgument("access_token_expiry: " + expiry.status().message(),
                                   "bad_token_json");
  }
  if (*expiry <= now) {
    return Status::InvalidArgument(
        "the server token expired at " + *exp + "; download a new one from Apple Business Manager",
        "token_expired");
  }
  token.consumer_key = *ck;
  token.consumer_secret = Secret<std::string>(*cs);
  token.access_token = Secret<std::string>(*at);
  token.access_secret = Secret<std::string>(*as);
  token.access_token_expiry = *expiry;
  return token;
}

}  // namespace mdmgw::dep

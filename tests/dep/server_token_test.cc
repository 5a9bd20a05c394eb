// The server-token exchange: identity generation, and .p7m files made the way Apple's portal
// makes them (CMS enveloped data to the uploaded certificate, S/MIME text, CRLF or LF), unwrapped.
#include "dep/server_token.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <ctime>

namespace mdmgw::dep {
namespace {

constexpr char kJson[] =
    R"({"consumer_key":"CK_48dd68d198350f51258e885ce9a5c37ab7f98543c4a697323d75682a6c10a32501cb2470",)"
    R"("consumer_secret":"CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6",)"
    R"("access_token":"AT_O8473841760O4d4ed4c2e1e0fd7e7a1a8d1e8ed5d0e6c5d0c1ccO1571954",)"
    R"("access_secret":"AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5",)"
    R"("access_token_expiry":"2099-09-16T17:21:34Z"})";

// What Apple's portal produces: S/MIME enveloped data to |cert_pem| around a MIME text part.
std::string MakeP7m(const std::string& cert_pem, const std::string& inner, bool crlf) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  STACK_OF(X509)* certs = sk_X509_new_null();
  sk_X509_push(certs, cert);
  BIO* in = BIO_new_mem_buf(inner.data(), static_cast<int>(inner.size()));
  CMS_ContentInfo* cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY);
  BIO* out = BIO_new(BIO_s_mem());
  SMIME_write_CMS(out, cms, nullptr, CMS_BINARY);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<size_t>(len));
  CMS_ContentInfo_free(cms);
  BIO_free(out);
  BIO_free(in);
  sk_X509_pop_free(certs, X509_free);
  BIO_free(cb);
  std::string normalized;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n' && crlf) normalized += '\r';
    normalized += c;
  }
  return normalized;
}

std::string Inner(bool crlf, bool markers_on_json_line) {
  std::string nl = crlf ? "\r\n" : "\n";
  std::string body = markers_on_json_line
                         ? "-----BEGIN MESSAGE-----" + std::string(kJson) + "-----END MESSAGE-----"
                         : "-----BEGIN MESSAGE-----" + nl + kJson + nl + "-----END MESSAGE-----";
  return "Content-Type: text/plain;charset=UTF-8" + nl + "Content-Transfer-Encoding: 7bit" + nl +
         nl + body + nl;
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

TEST(ServerTokenTest, IdentityIsAnRsaKeyWithAMatchingSelfSignedCertificate) {
  auto id = GenerateTokenExchangeIdentity("mdm-gateway DEP");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  BIO* b = BIO_new_mem_buf(id->cert_pem.data(), static_cast<int>(id->cert_pem.size()));
  X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert)), 2048);
  EXPECT_EQ(X509_verify(cert, X509_get0_pubkey(cert)), 1) << "self-signed";
  EXPECT_TRUE(X509_get_key_usage(cert) & KU_KEY_ENCIPHERMENT);
  X509_free(cert);
  BIO_free(b);
}

TEST(ServerTokenTest, DecryptsCrlfAndLfWithMarkersEitherWay) {
  auto id = GenerateTokenExchangeIdentity("dep").value();
  for (bool crlf : {true, false}) {
    for (bool same_line : {true, false}) {
      std::string p7m = MakeP7m(id.cert_pem, Inner(crlf, same_line), crlf);
      ASSERT_NE(p7m.find("smime.p7m"), std::string::npos);
      auto token = DecryptServerToken(p7m, id.cert_pem, id.key_pem, Now());
      ASSERT_TRUE(token.ok()) << "crlf=" << crlf << " same_line=" << same_line << ": "
                              << token.status().ToString();
      EXPECT_EQ(token->consumer_key,
                "CK_48dd68d198350f51258e885ce9a5c37ab7f98543c4a697323d75682a6c10a32501cb2470");
      EXPECT_EQ(token->access_secret.Expose(), "AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5");
      EXPECT_EQ(token->access_token_expiry, 4093262494);
    }
  }
}

TEST(ServerTokenTest, EachRefusalHasItsCode) {
  auto id = GenerateTokenExchangeIdentity("dep").value();
  auto other = GenerateTokenExchangeIdentity("other").value();
  std::string for_other = MakeP7m(other.cert_pem, Inner(false, true), false);
  EXPECT_EQ(DecryptServerToken(for_other, id.cert_pem, id.key_pem, Now()).status().reason(),
            "wrong_key");
  EXPECT_EQ(DecryptServerToken("hello", id.cert_pem, id.key_pem, Now()).status().reason(),
            "not_smime");
  std::string bad_json = MakeP7m(id.cert_pem, "Content-Type: text/plain\n\n{not json", false);
  EXPECT_EQ(DecryptServerToken(bad_json, id.cert_pem, id.key_pem, Now()).status().reason(),
            "bad_token_json");
  std::string missing = MakeP7m(id.cert_pem, R"({"consumer_key":"CK_1"})", false);
  EXPECT_EQ(DecryptServerToken(missing, id.cert_pem, id.key_pem, Now()).status().reason(),
            "bad_token_json");
  auto expired = ParseServerTokenPlaintext(Inner(false, true), 4093262495);
  EXPECT_EQ(expired.status().reason(), "token_expired");
}

TEST(ServerTokenTest, Rfc3339Times) {
  EXPECT_EQ(*ParseRfc3339("2024-09-16T17:21:34Z"), 1726507294);
  EXPECT_EQ(*ParseRfc3339("2024-09-16T19:21:34+02:00"), 1726507294);
  EXPECT_EQ(*ParseRfc3339("2024-09-16T17:21:34.123Z"), 1726507294);
  EXPECT_FALSE(ParseRfc3339("2024-09-16").ok());
  EXPECT_FALSE(ParseRfc3339("2024-09-16T17:21:34").ok()) << "no zone";
}

}  // namespace
}  // namespace mdmgw::dep

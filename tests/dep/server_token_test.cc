// The server-token exchange: identity generation, and .p7m files made the way Apple's portal
// makes them (CMS enveloped data to the uploaded certificate, S/MIME text, CRLF or LF), unwrapped.
#include "dep/server_token.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "tests/support/dep_token.h"

namespace mdmgw::dep {
namespace {

constexpr char kConsumerKey[] =
    "CK_48dd68d198350f51258e885ce9a5c37ab7f98543c4a697323d75682a6c10a32501cb2470";

std::string Inner(bool crlf, bool markers_on_json_line) {
  return testing::DepTokenPlaintext(kConsumerKey, "2099-09-16T17:21:34Z", crlf,
                                    markers_on_json_line);
}

std::string MakeP7m(const std::string& cert_pem, const std::string& inner, bool crlf) {
  return testing::MakeDepP7m(cert_pem, inner, crlf);
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
      EXPECT_EQ(token->consumer_key, kConsumerKey);
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
  // A short offset once moved the reader past the end of the string (tests/fuzz/dep_json).
  for (const char* bad :
       {"2024-09-16T17:21:34+1:2", "2024-09-16T17:21:34+", "2024-09-16T17:21:34-0",
        "2024-09-16T17:21:34+02:0", "2024-09-16T17:21:34+0a:00"}) {
    EXPECT_EQ(ParseRfc3339(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(*ParseRfc3339("2024-09-16T15:21:34-02:00"), 1726507294);
}

}  // namespace
}  // namespace mdmgw::dep

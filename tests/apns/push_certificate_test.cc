// Push certificate parsing and validation with real fixture certificates (micromdm, nanomdm) and
// generated ones for the cases no public fixture covers.
#include "apns/push_certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <ctime>

#include "apns/push_csr.h"
#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"

namespace mdmgw::apns {
namespace {

using testing::TempDir;
using testing::TestCa;

std::string Fixture(const std::string& rel) {
  auto data = ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/" + rel);
  EXPECT_TRUE(data.ok()) << rel;
  return data.value_or("");
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

constexpr char kTopic[] = "com.apple.mgmt.External.9f1c7e2a-0000-4000-8000-00000000abcd";

std::string MakePkcs12(const std::string& cert_pem, const std::string& key_pem,
                       const char* password) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  PKCS12* p12 = PKCS12_create(password, "push", key, cert, nullptr, 0, 0, 0, 0, 0);
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  PKCS12_free(p12);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  return out;
}

TEST(PushTopicTest, ExtractsTheSubjectUidFromRealFixtures) {
  auto topic = PushTopicFromPem(Fixture("micromdm/mock_push_cert.pem"));
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();
  EXPECT_EQ(*topic, "com.apple.mgmt.External.18a16429-886b-41f1-9c30-2bd04ae4fc37");
  topic = PushTopicFromPem(Fixture("nanomdm/push.pem"));
  ASSERT_TRUE(topic.ok());
  EXPECT_EQ(*topic, "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9");
}

TEST(PushTopicTest, RefusesMissingAndForeignTopics) {
  EXPECT_EQ(PushTopicFromPem(Fixture("micromdm/mock_push_cert_no_uid.pem")).status().reason(),
            "no_topic");
  auto wrong = PushTopicFromPem(Fixture("micromdm/mock_push_cert_wrong_uid_prefix.pem"));
  EXPECT_EQ(wrong.status().reason(), "invalid_topic");
  EXPECT_NE(wrong.status().message().find("wrong.prefix."), std::string::npos)
      << "the message names the UID found";
  EXPECT_EQ(PushTopicFromPem("hello").status().reason(), "bad_certificate");
}

class PushCertificateTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TestCa ca_{dir_.path(), "Apple Push test CA"};
};

TEST_F(PushCertificateTest, AcceptsConcatenatedPemAndSeparateKey) {
  auto issued = ca_.IssuePushCert("push", kTopic);
  auto cert = ParsePemPushCertificate(issued.cert_pem + issued.key_pem, "", "", Now());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->topic, kTopic);
  EXPECT_NE(cert->subject.find(std::string("UID=") + kTopic), std::string::npos) << cert->subject;
  EXPECT_FALSE(cert->serial.empty());
  EXPECT_GT(cert->not_after, Now() + 360 * 86400);
  EXPECT_GE(cert->DaysLeft(Now()), 364);
  EXPECT_LE(cert->DaysLeft(Now()), 365);
  EXPECT_NE(cert->key_pem.Expose().find("BEGIN PRIVATE KEY"), std::string::npos);

  // Key first, then the certificate, also works; and the key as its own part.
  EXPECT_TRUE(ParsePemPushCertificate(issued.key_pem + issued.cert_pem, "", "", Now()).ok());
  auto split = ParsePemPushCertificate(issued.cert_pem, issued.key_pem, "", Now());
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->topic, kTopic);
}

TEST_F(PushCertificateTest, EachRefusalHasItsOwnCode) {
  auto issued = ca_.IssuePushCert("push", kTopic);
  auto other = ca_.IssuePushCert("other", kTopic);
  auto expired = ca_.IssuePushCert("old", kTopic, -86400L * 400, -86400L);
  auto reason = [](const Result<PushCertificate>& r) { return r.status().reason(); };

  EXPECT_EQ(reason(ParsePemPushCertificate("junk", "", "", Now())), "bad_certificate");
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, "", "", Now())), "missing_key");
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, other.key_pem, "", Now())),
            "key_mismatch");
  EXPECT_EQ(reason(ParsePemPushCertificate(expired.cert_pem + expired.key_pem, "", "", Now())),
            "expired");
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, "not a key", "", Now())), "bad_key");
  // The topic is checked before the key: a no-UID certificate is no_topic whatever the key.
  EXPECT_EQ(reason(ParsePemPushCertificate(Fixture("micromdm/mock_push_cert_no_uid.pem"),
                                           issued.key_pem, "", Now())),
            "no_topic");
  EXPECT_EQ(reason(ParsePemPushCertificate(Fixture("micromdm/mock_push_cert_wrong_uid_prefix.pem"),
                                           issued.key_pem, "", Now())),
            "invalid_topic");
}

TEST_F(PushCertificateTest, EncryptedKeysNeedTheirPassword) {
  // micromdm's ProviderPrivateKey.key is a DES-EDE3 encrypted RSA key (password "secret") that
  // belongs to another certificate.
  auto issued = ca_.IssuePushCert("push", kTopic);
  std::string encrypted = Fixture("micromdm/ProviderPrivateKey.key");
  auto reason = [](const Result<PushCertificate>& r) { return r.status().reason(); };
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, encrypted, "", Now())),
            "encrypted_key");
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, encrypted, "wrong", Now())),
            "bad_password");
  EXPECT_EQ(reason(ParsePemPushCertificate(issued.cert_pem, encrypted, "secret", Now())),
            "key_mismatch")
      << "the right password opens it; then the key is seen to be another certificate's";
}

TEST_F(PushCertificateTest, Pkcs12RoundTripAndErrors) {
  auto issued = ca_.IssuePushCert("push", kTopic);
  std::string p12 = MakePkcs12(issued.cert_pem, issued.key_pem, "pa55");
  auto cert = ParsePkcs12PushCertificate(p12, "pa55", Now());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->topic, kTopic);
  EXPECT_EQ(ParsePkcs12PushCertificate(p12, "nope", Now()).status().reason(), "bad_password");
  EXPECT_EQ(ParsePkcs12PushCertificate("not der", "x", Now()).status().reason(), "bad_pkcs12");
}

TEST_F(PushCertificateTest, LegacyEncryptedPkcs12FromMicromdmOpens) {
  // pushcert.p12 uses RC2-40 (OpenSSL 3 "legacy"); its certificate is CN=mdmpush with no UID, so a
  // successful decrypt ends at the topic check.
  auto r = ParsePkcs12PushCertificate(Fixture("micromdm/pushcert.p12"), "secret", Now());
  EXPECT_EQ(r.status().reason(), "no_topic") << r.status().ToString();
}

TEST(TopicContinuityTest, GuardsRenewals) {
  EXPECT_TRUE(CheckTopicContinuity("", "com.apple.mgmt.a", false).ok());
  EXPECT_TRUE(CheckTopicContinuity("com.apple.mgmt.a", "com.apple.mgmt.a", false).ok());
  Status changed = CheckTopicContinuity("com.apple.mgmt.a", "com.apple.mgmt.b", false);
  EXPECT_EQ(changed.reason(), "topic_changed");
  EXPECT_NE(changed.message().find("com.apple.mgmt.a"), std::string::npos);
  EXPECT_NE(changed.message().find("com.apple.mgmt.b"), std::string::npos);
  EXPECT_NE(changed.message().find("stop answering"), std::string::npos);
  EXPECT_TRUE(CheckTopicContinuity("com.apple.mgmt.a", "com.apple.mgmt.b", true).ok());
}

TEST(PushCsrTest, GeneratesASignedRsaRequest) {
  auto csr = GeneratePushCsr("Example Corp MDM", "it@example.com");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  BIO* bio = BIO_new_mem_buf(csr->csr_pem.data(), static_cast<int>(csr->csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  ASSERT_NE(req, nullptr);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
  EXPECT_EQ(X509_REQ_verify(req, pub), 1) << "self-signature verifies";
  EXPECT_EQ(EVP_PKEY_get_bits(pub), 2048);
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "Example Corp MDM");
  X509_REQ_free(req);
  BIO_free(bio);
  EXPECT_EQ(GeneratePushCsr("", "").status().reason(), "bad_common_name");
}

}  // namespace
}  // namespace mdmgw::apns

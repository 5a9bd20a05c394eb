// SplitSignedData: the certificates of a CMS SignedData come out as their exact DER, the rest
// still reads and verifies with OpenSSL when the certificate is supplied, and anything that is not
// plain DER SignedData is declined (the caller then decodes in full).
#include "common/crypto/signed_data_split.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>

#include "common/crypto/self_signed.h"

namespace mdmgw::crypto {
namespace {

struct Signer {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  ~Signer() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

void Load(const std::string& name, Signer* s) {
  auto made = GenerateSelfSignedServerCertificate({name}, 1);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  BIO* cb = BIO_new_mem_buf(made->cert_pem.data(), static_cast<int>(made->cert_pem.size()));
  s->cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  const std::string& key = made->key_pem.Expose();
  BIO* kb = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
  s->key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  ASSERT_NE(s->cert, nullptr);
  ASSERT_NE(s->key, nullptr);
}

std::string Der(X509* cert) {
  unsigned char* p = nullptr;
  int len = i2d_X509(cert, &p);
  std::string out(reinterpret_cast<char*>(p), static_cast<size_t>(len));
  OPENSSL_free(p);
  return out;
}

// Detached CMS over |body|; |extra| certificates are added beside the signer's.
std::string SignDetached(const Signer& s, const std::string& body, int flags,
                         STACK_OF(X509) * extra = nullptr) {
  BIO* in = BIO_new_mem_buf(body.data(), static_cast<int>(body.size()));
  CMS_ContentInfo* cms = CMS_sign(s.cert, s.key, extra, in, CMS_BINARY | CMS_DETACHED | flags);
  BIO_free(in);
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  return out;
}

// Reads |der| and verifies it over |body| with |certs| as the only place to find the signer.
bool Verifies(const std::string& der, const std::string& body, X509* cert) {
  BIO* in = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
  CMS_ContentInfo* cms = d2i_CMS_bio(in, nullptr);
  BIO_free(in);
  if (cms == nullptr) return false;
  STACK_OF(X509)* certs = sk_X509_new_null();
  if (cert != nullptr) sk_X509_push(certs, cert);
  BIO* content = BIO_new_mem_buf(body.data(), static_cast<int>(body.size()));
  int ok =
      CMS_verify(cms, certs, nullptr, content, nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
  BIO_free(content);
  sk_X509_free(certs);
  CMS_ContentInfo_free(cms);
  ERR_clear_error();
  return ok == 1;
}

TEST(SignedDataSplitTest, SignerCertificateComesOutAndTheRestStillVerifies) {
  Signer s;
  Load("device.example", &s);
  std::string body = "<plist><dict><key>MessageType</key><string>Idle</string></dict></plist>";
  std::string cms = SignDetached(s, body, 0);
  auto split = SplitSignedData(cms);
  ASSERT_TRUE(split.has_value());
  ASSERT_EQ(split->certificates.size(), 1u);
  EXPECT_EQ(std::string(split->certificates[0]), Der(s.cert));
  EXPECT_LT(split->without_certificates.size(), cms.size() - Der(s.cert).size() + 8);

  // Without the certificate OpenSSL cannot find the signer; given it, the signature verifies,
  // and only over the exact body.
  EXPECT_FALSE(Verifies(split->without_certificates, body, nullptr));
  EXPECT_TRUE(Verifies(split->without_certificates, body, s.cert));
  EXPECT_FALSE(Verifies(split->without_certificates, body + " ", s.cert));
  // The stripped form holds no certificate at all.
  BIO* in = BIO_new_mem_buf(split->without_certificates.data(),
                            static_cast<int>(split->without_certificates.size()));
  CMS_ContentInfo* stripped = d2i_CMS_bio(in, nullptr);
  BIO_free(in);
  ASSERT_NE(stripped, nullptr);
  STACK_OF(X509)* left = CMS_get1_certs(stripped);
  EXPECT_EQ(left == nullptr ? 0 : sk_X509_num(left), 0);
  sk_X509_pop_free(left, X509_free);
  CMS_ContentInfo_free(stripped);

  // Another certificate is not the signer.
  Signer other;
  Load("other.example", &other);
  EXPECT_FALSE(Verifies(split->without_certificates, body, other.cert));
}

TEST(SignedDataSplitTest, NoCertificatesAndSeveral) {
  Signer s, extra;
  Load("device.example", &s);
  Load("intermediate.example", &extra);
  std::string body = "body";
  std::string bare = SignDetached(s, body, CMS_NOCERTS);
  auto none = SplitSignedData(bare);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->certificates.empty());
  EXPECT_EQ(none->without_certificates, bare);

  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, extra.cert);
  std::string two = SignDetached(s, body, 0, chain);
  sk_X509_free(chain);
  auto split = SplitSignedData(two);
  ASSERT_TRUE(split.has_value());
  ASSERT_EQ(split->certificates.size(), 2u);
  std::vector<std::string> got{std::string(split->certificates[0]),
                               std::string(split->certificates[1])};
  EXPECT_NE(std::find(got.begin(), got.end(), Der(s.cert)), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), Der(extra.cert)), got.end());
  EXPECT_TRUE(Verifies(split->without_certificates, body, s.cert));
}

TEST(SignedDataSplitTest, DeclinesWhatIsNotPlainDerSignedData) {
  Signer s;
  Load("device.example", &s);
  std::string cms = SignDetached(s, "body", 0);
  EXPECT_FALSE(SplitSignedData("").has_value());
  EXPECT_FALSE(SplitSignedData("not DER at all").has_value());
  EXPECT_FALSE(SplitSignedData(cms + std::string(1, '\0')).has_value()) << "trailing byte";
  for (size_t cut : {size_t{1}, size_t{2}, cms.size() / 2, cms.size() - 1}) {
    EXPECT_FALSE(SplitSignedData(cms.substr(0, cut)).has_value()) << "truncated at " << cut;
  }
  // BER indefinite length (what a streaming encoder writes) is left to the full decoder.
  std::string indefinite("\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\x00\x00", 15);
  EXPECT_FALSE(SplitSignedData(indefinite).has_value());
  // A ContentInfo whose content is not a SEQUENCE.
  std::string odd("\x30\x0f\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x02\x04\x00", 17);
  EXPECT_FALSE(SplitSignedData(odd).has_value());
  // Every single-byte corruption either declines or yields DER that OpenSSL reads safely.
  for (size_t i = 0; i < cms.size(); i += 7) {
    std::string bad = cms;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto split = SplitSignedData(bad);
    if (!split) continue;
    for (std::string_view c : split->certificates) {
      EXPECT_GE(c.data(), bad.data());
      EXPECT_LE(c.data() + c.size(), bad.data() + bad.size());
    }
    BIO* in = BIO_new_mem_buf(split->without_certificates.data(),
                              static_cast<int>(split->without_certificates.size()));
    CMS_ContentInfo_free(d2i_CMS_bio(in, nullptr));
    BIO_free(in);
    ERR_clear_error();
  }
}

}  // namespace
}  // namespace mdmgw::crypto

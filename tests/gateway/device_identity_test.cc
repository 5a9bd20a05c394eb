// Device identity at the edge: TLS client certificates and Mdm-Signature checked against the
// device CA bundle; RFC 9440 headers honoured only from trusted proxies.
#include "gateway/device_identity.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"

namespace mdmgw::gateway {
namespace {

std::string DerOf(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  int len = i2d_X509(c, nullptr);
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(c, &p);
  X509_free(c);
  return der;
}

// Mdm-Signature as a device makes it: detached CMS over |body| by |id|, base64.
std::string Sign(const mdmgw::testing::IssuedFiles& id, const std::string& body) {
  BIO* cb = BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO* kb = BIO_new_mem_buf(id.key_pem.data(), static_cast<int>(id.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO* in = BIO_new_mem_buf(body.data(), static_cast<int>(body.size()));
  CMS_ContentInfo* cms = CMS_sign(cert, key, nullptr, in, CMS_BINARY | CMS_DETACHED);
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  BIO_free(kb);
  BIO_free(cb);
  X509_free(cert);
  EVP_PKEY_free(key);
  return Base64Encode(out);
}

class DeviceIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(dir_.File("rogue").c_str(), 0700);
    rogue_ = std::make_unique<mdmgw::testing::TestCa>(dir_.File("rogue"), "rogue CA");
    device_ = ca_.IssueClient("device", "device 1");
    stranger_ = rogue_->IssueClient("stranger", "stranger");
    server_ = ca_.IssueServer("server");
    auto ca_pem = ReadFile(ca_.ca_file());
    ASSERT_TRUE(ca_pem.ok());
    auto cidr = Cidr::Parse("10.0.0.0/8");
    ASSERT_TRUE(cidr.ok());
    auto v = DeviceIdentityVerifier::Create(*ca_pem, {*cidr});
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    verifier_ = std::move(v).value();
  }
  net::Request WithTls(const mdmgw::testing::IssuedFiles& id) {
    net::Request r;
    r.remote_address = "127.0.0.1:5000";
    auto peer = std::make_shared<net::PeerCertificate>();
    peer->der = DerOf(id.cert_pem);
    r.peer_certificate = peer;
    return r;
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path(), "devices CA"};
  std::unique_ptr<mdmgw::testing::TestCa> rogue_;
  mdmgw::testing::IssuedFiles device_, stranger_, server_;
  std::unique_ptr<DeviceIdentityVerifier> verifier_;
};

TEST_F(DeviceIdentityTest, TlsClientCertificate) {
  auto ok = verifier_->Verify(WithTls(device_));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->source, "mtls");
  EXPECT_EQ(ok->sha256_hex, HexEncode(crypto::Sha256(DerOf(device_.cert_pem))));
  EXPECT_GT(ok->not_after, 0);
  auto rogue = verifier_->Verify(WithTls(stranger_));
  EXPECT_EQ(rogue.status().reason(), "untrusted_certificate");
  // A server-auth-only certificate is not a device identity (wrong EKU).
  EXPECT_EQ(verifier_->Verify(WithTls(server_)).status().reason(), "untrusted_certificate");
  net::Request none;
  none.remote_address = "127.0.0.1:1";
  EXPECT_EQ(verifier_->Verify(none).status().reason(), "no_identity");
}

TEST_F(DeviceIdentityTest, MdmSignature) {
  net::Request r;
  r.remote_address = "127.0.0.1:1";
  r.body = "<plist>body</plist>";
  r.headers.Add("mdm-signature", Sign(device_, r.body));
  auto ok = verifier_->Verify(r);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->source, "mdm-signature");
  EXPECT_EQ(ok->sha256_hex, HexEncode(crypto::Sha256(DerOf(device_.cert_pem))));

  net::Request tampered = r;
  tampered.body += " ";
  EXPECT_EQ(verifier_->Verify(tampered).status().reason(), "bad_signature");

  net::Request wrong_ca;
  wrong_ca.body = r.body;
  wrong_ca.headers.Add("mdm-signature", Sign(stranger_, r.body));
  EXPECT_EQ(verifier_->Verify(wrong_ca).status().reason(), "untrusted_certificate");

  net::Request garbage;
  garbage.headers.Add("mdm-signature", "%%%not base64");
  EXPECT_EQ(verifier_->Verify(garbage).status().reason(), "bad_signature");
}

// Once a device's certificate is remembered, its signatures are checked against the kept
// certificate (the embedded copy is not decoded again): still only over the exact body.
TEST_F(DeviceIdentityTest, MdmSignatureWithRememberedCertificate) {
  net::Request first;
  first.body = "<plist>first</plist>";
  first.headers.Add("mdm-signature", Sign(device_, first.body));
  auto a = verifier_->Verify(first);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (const char* body : {"<plist>second</plist>", "<plist>third</plist>"}) {
    net::Request next;
    next.body = body;
    next.headers.Add("mdm-signature", Sign(device_, next.body));
    auto b = verifier_->Verify(next);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->sha256_hex, a->sha256_hex);
    EXPECT_EQ(b->cert_der, DerOf(device_.cert_pem));
    EXPECT_EQ(b->not_after, a->not_after);
    net::Request tampered = next;
    tampered.body += "x";
    EXPECT_EQ(verifier_->Verify(tampered).status().reason(), "bad_signature");
    // Another message's signature does not cover this body.
    net::Request swapped = next;
    swapped.headers.Set("mdm-signature", std::string(*first.headers.Get("mdm-signature")));
    EXPECT_EQ(verifier_->Verify(swapped).status().reason(), "bad_signature");
  }
  // The remembered device does not make a stranger's signature acceptable.
  net::Request stranger;
  stranger.body = first.body;
  stranger.headers.Add("mdm-signature", Sign(stranger_, stranger.body));
  EXPECT_EQ(verifier_->Verify(stranger).status().reason(), "untrusted_certificate");
}

TEST_F(DeviceIdentityTest, ClientCertHeaderOnlyFromTrustedProxies) {
  std::string header = ":" + Base64Encode(DerOf(device_.cert_pem)) + ":";
  net::Request outside;
  outside.remote_address = "192.0.2.7:443";
  outside.headers.Add("client-cert", header);
  EXPECT_EQ(verifier_->Verify(outside).status().reason(), "no_identity")
      << "a header from an untrusted address is ignored";
  net::Request proxied = outside;
  proxied.remote_address = "10.1.2.3:55000";
  auto ok = verifier_->Verify(proxied);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->source, "proxy-header");
  // Even a trusted proxy cannot vouch for a certificate outside the CA bundle.
  net::Request forged = proxied;
  forged.headers.Set("client-cert", ":" + Base64Encode(DerOf(stranger_.cert_pem)) + ":");
  EXPECT_EQ(verifier_->Verify(forged).status().reason(), "untrusted_certificate");
}

TEST(CidrTest, ParseAndContain) {
  auto v4 = Cidr::Parse("192.168.0.0/16");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->Contains("192.168.44.1:80"));
  EXPECT_FALSE(v4->Contains("192.169.0.1:80"));
  EXPECT_TRUE(v4->Contains("[::ffff:192.168.1.1]:80")) << "IPv4-mapped";
  auto v6 = Cidr::Parse("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains("[fd12::1]:443"));
  EXPECT_FALSE(v6->Contains("127.0.0.1:1"));
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Cidr::Parse("example.com").ok());
}

}  // namespace
}  // namespace mdmgw::gateway

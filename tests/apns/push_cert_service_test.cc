// PushCertService over a real SQLite store: upload, renewal guard, apple_id memory, CSR flow,
// sealed key at rest, listeners, expiry warnings and metric.
#include "apns/push_cert_service.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "fixtures/pki/test_pki.h"
#include "store/store.h"
#include "tests/support/fake_clock.h"

namespace mdmgw::apns {
namespace {

constexpr char kTopicA[] = "com.apple.mgmt.External.aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kTopicB[] = "com.apple.mgmt.External.bbbbbbbb-0000-4000-8000-000000000002";

class PushCertServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::Store::Open("sqlite::memory:").value();
    clock_.Set(static_cast<int64_t>(std::time(nullptr)));
    service_ = std::make_unique<PushCertService>(*store_, box_, clock_, &registry_);
  }
  PushCertUpload Pem(const testing::IssuedFiles& f) {
    PushCertUpload u;
    u.pem = f.cert_pem + f.key_pem;
    return u;
  }

  testing::TempDir dir_;
  testing::TestCa ca_{dir_.path()};
  std::unique_ptr<store::Store> store_;
  SecretBox box_ = SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value();
  testing::FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<PushCertService> service_;
};

TEST_F(PushCertServiceTest, UploadStoresSealedKeyAndReportsInfo) {
  auto issued = ca_.IssuePushCert("a", kTopicA);
  PushCertUpload upload = Pem(issued);
  upload.apple_id = "mdm@example.com";
  int notified = 0;
  std::string notified_topic;
  service_->AddChangeListener([&](const PushCertificate* c) {
    ++notified;
    notified_topic = c ? c->topic : "";
  });
  auto info = service_->Upload(upload);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->topic, kTopicA);
  EXPECT_EQ(info->apple_id, "mdm@example.com");
  EXPECT_GE(info->days_left, 364);
  EXPECT_LE(info->days_left, 365);
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(notified_topic, kTopicA);

  auto record = store_->GetPushCert();
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->sealed_key.find("PRIVATE KEY"), std::string::npos) << "sealed at rest";
  auto active = service_->LoadActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_NE(active->key_pem.Expose().find("BEGIN PRIVATE KEY"), std::string::npos);

  EXPECT_GT(registry_.Render().find("mdmgw_apns_cert_expiry_seconds"), 0u);
}

TEST_F(PushCertServiceTest, RenewalKeepsTopicAndAppleIdAndRefusesATopicChange) {
  ASSERT_TRUE(service_
                  ->Upload([&] {
                    auto u = Pem(ca_.IssuePushCert("a", kTopicA));
                    u.apple_id = "first@example.com";
                    return u;
                  }())
                  .ok());
  auto renewed_files = ca_.IssuePushCert("a2", kTopicA);
  auto renewed = service_->Upload(Pem(renewed_files));
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->apple_id, "first@example.com") << "kept across a same-topic renewal";
  EXPECT_EQ(store_->GetPushCert()->cert_pem, renewed_files.cert_pem);

  auto other = service_->Upload(Pem(ca_.IssuePushCert("b", kTopicB)));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().reason(), "topic_changed");
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("first@example.com"), std::string::npos)
      << "the refusal names the Apple ID that created the stored certificate";
  EXPECT_EQ(store_->GetPushCert()->topic, kTopicA) << "nothing changed";

  PushCertUpload forced = Pem(ca_.IssuePushCert("b", kTopicB));
  forced.force = true;
  auto replaced = service_->Upload(forced);
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(replaced->topic_changed);
  EXPECT_EQ(replaced->apple_id, "") << "another topic means another Apple ID's certificate";
}

TEST_F(PushCertServiceTest, BadUploadChangesNothing) {
  ASSERT_TRUE(service_->Upload(Pem(ca_.IssuePushCert("a", kTopicA))).ok());
  std::string before = store_->GetPushCert()->cert_pem;
  auto expired = ca_.IssuePushCert("old", kTopicA, -86400L * 400, -10);
  EXPECT_EQ(service_->Upload(Pem(expired)).status().reason(), "expired");
  EXPECT_EQ(store_->GetPushCert()->cert_pem, before);
}

TEST_F(PushCertServiceTest, CsrKeyIsUsedWhenTheSignedCertificateArrives) {
  auto csr = service_->CreateCsr("Example MDM", "");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_EQ(store_->GetPendingCsr()->sealed_key.find("PRIVATE KEY"), std::string::npos);
  PushCertUpload upload;
  upload.pem = ca_.SignPushCsr(*csr, kTopicA);  // the certificate alone, as Apple returns it
  auto info = service_->Upload(upload);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->topic, kTopicA);
  EXPECT_TRUE(store_->GetPendingCsr().status().IsNotFound()) << "the pending key is consumed";
  EXPECT_TRUE(service_->LoadActive().ok());

  // Without a pending key, a bare certificate is missing its key.
  PushCertUpload bare;
  bare.pem = ca_.IssuePushCert("x", kTopicA).cert_pem;
  EXPECT_EQ(service_->Upload(bare).status().reason(), "missing_key");
}

TEST_F(PushCertServiceTest, DeleteNotifiesAndExpiryIsTracked) {
  EXPECT_FALSE(service_->CheckExpiry().has_value());
  ASSERT_TRUE(service_->Upload(Pem(ca_.IssuePushCert("a", kTopicA, -3600, 86400L * 10))).ok());
  auto days = service_->CheckExpiry();
  ASSERT_TRUE(days.has_value());
  EXPECT_GE(*days, 9);
  EXPECT_LE(*days, 10);
  clock_.Advance(std::chrono::hours(24 * 12));
  EXPECT_LT(*service_->CheckExpiry(), 0);

  bool cleared = false;
  service_->AddChangeListener([&](const PushCertificate* c) { cleared = (c == nullptr); });
  ASSERT_TRUE(service_->Delete().ok());
  EXPECT_TRUE(cleared);
  EXPECT_TRUE(service_->Info().status().IsNotFound());
  EXPECT_TRUE(service_->Delete().IsNotFound());
}

}  // namespace
}  // namespace mdmgw::apns

// The push certificate admin API on the assembled gateway over real TLS: every upload form, each
// refusal's code and status, the renewal guard, NanoMDM's /v1/pushcert with Basic auth, CSR.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kTopicA[] = "com.apple.mgmt.External.aaaaaaaa-1111-4000-8000-000000000001";
constexpr char kTopicB[] = "com.apple.mgmt.External.bbbbbbbb-2222-4000-8000-000000000002";

class ApnsAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
  }
  Headers Auth(std::string content_type = "") {
    Headers h{{"authorization", "Bearer " + key_}};
    if (!content_type.empty()) h.emplace_back("content-type", content_type);
    return h;
  }
  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "",
                                            const std::string& content_type = "") {
    return H2Request(app_->port(), method, path, Auth(content_type), body);
  }
  static std::string Code(const mdmgw::testing::H2TestClient::Stream& s) {
    auto doc = nlohmann::json::parse(s.body, nullptr, false);
    return doc.is_object() && doc.contains("error") ? doc["error"]["code"].get<std::string>() : "";
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

TEST_F(ApnsAdminTest, PemUploadThenInfoThenDelete) {
  EXPECT_EQ(Code(Call("GET", "/api/v1/apns/certificate")), "no_certificate");
  auto a = ca_.IssuePushCert("a", kTopicA);
  auto put = Call("PUT", "/api/v1/apns/certificate?apple_id=ops%40example.com",
                  a.cert_pem + a.key_pem, "application/x-pem-file");
  ASSERT_EQ(put.status, 200) << put.body;
  auto body = nlohmann::json::parse(put.body);
  EXPECT_EQ(body["topic"], kTopicA);
  EXPECT_EQ(body["apple_id"], "ops@example.com");
  EXPECT_EQ(put.body.find("PRIVATE"), std::string::npos) << "the key is never returned";

  auto get = Call("GET", "/api/v1/apns/certificate");
  ASSERT_EQ(get.status, 200);
  body = nlohmann::json::parse(get.body);
  for (const char* field :
       {"topic", "subject", "serial", "not_before", "not_after", "days_left", "apple_id"})
    EXPECT_TRUE(body.contains(field)) << field;
  EXPECT_GE(body["days_left"].get<int>(), 364);

  auto ready = H2Request(app_->port(), "GET", "/readyz", {}, "");
  EXPECT_EQ(nlohmann::json::parse(ready.body)["checks"]["apns_certificate"]["state"], "ok");

  EXPECT_EQ(Call("DELETE", "/api/v1/apns/certificate").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/apns/certificate").status, 404);
}

TEST_F(ApnsAdminTest, MultipartJsonAndPkcs12Forms) {
  auto a = ca_.IssuePushCert("a", kTopicA);
  std::string boundary = "XyZ123";
  std::string form =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"certificate\"; "
      "filename=\"MDM_Push.pem\"\r\nContent-Type: application/x-pem-file\r\n\r\n" +
      a.cert_pem + "\r\n--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"key\"; filename=\"push.key\"\r\n\r\n" +
      a.key_pem + "\r\n--" + boundary + "--\r\n";
  auto put =
      Call("PUT", "/api/v1/apns/certificate", form, "multipart/form-data; boundary=" + boundary);
  ASSERT_EQ(put.status, 200) << put.body;

  nlohmann::json doc = {{"certificate", a.cert_pem}, {"key", a.key_pem}, {"apple_id", "x@y.z"}};
  put = Call("PUT", "/api/v1/apns/certificate", doc.dump(), "application/json");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(nlohmann::json::parse(put.body)["apple_id"], "x@y.z");

  // micromdm's RC2-encrypted PKCS#12 opens (password "secret") and is refused for its topic.
  auto p12 = ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/micromdm/pushcert.p12");
  ASSERT_TRUE(p12.ok());
  auto raw = H2Request(app_->port(), "PUT", "/api/v1/apns/certificate",
                       {{"authorization", "Bearer " + key_},
                        {"content-type", "application/x-pkcs12"},
                        {"x-pkcs12-password", "secret"}},
                       *p12);
  EXPECT_EQ(raw.status, 400);
  EXPECT_EQ(Code(raw), "no_topic");
  doc = {{"pkcs12", Base64Encode(*p12)}, {"password", "wrong"}};
  auto wrong = Call("PUT", "/api/v1/apns/certificate", doc.dump(), "application/json");
  EXPECT_EQ(Code(wrong), "bad_password");
}

TEST_F(ApnsAdminTest, RefusalsHaveCodesAndChangeNothing) {
  auto a = ca_.IssuePushCert("a", kTopicA);
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", a.cert_pem + a.key_pem).status, 200);
  auto b = ca_.IssuePushCert("b", kTopicB);
  auto changed = Call("PUT", "/api/v1/apns/certificate", b.cert_pem + b.key_pem);
  EXPECT_EQ(changed.status, 409);
  EXPECT_EQ(Code(changed), "topic_changed");
  EXPECT_NE(changed.body.find(kTopicA), std::string::npos);
  EXPECT_NE(changed.body.find(kTopicB), std::string::npos);

  std::string no_uid =
      *ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/micromdm/mock_push_cert_no_uid.pem");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/apns/certificate", no_uid + a.key_pem)), "no_topic");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/apns/certificate", a.cert_pem + b.key_pem)), "key_mismatch");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/apns/certificate", "hello")), "bad_certificate");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/apns/certificate", "{", "application/json")), "bad_request");
  EXPECT_EQ(Code(Call("PUT", "/api/v1/apns/certificate", "x", "multipart/form-data; boundary=zz")),
            "bad_multipart");

  auto get = Call("GET", "/api/v1/apns/certificate");
  EXPECT_EQ(nlohmann::json::parse(get.body)["topic"], kTopicA) << "nothing stored was lost";

  auto forced = Call("PUT", "/api/v1/apns/certificate?force=1", b.cert_pem + b.key_pem);
  ASSERT_EQ(forced.status, 200);
  EXPECT_TRUE(nlohmann::json::parse(forced.body)["topic_changed"].get<bool>());
}

TEST_F(ApnsAdminTest, NanoMdmPushCertWithBasicAuthAndCsrFlow) {
  auto a = ca_.IssuePushCert("a", kTopicA);
  auto unauth = H2Request(app_->port(), "PUT", "/v1/pushcert", {}, a.cert_pem + a.key_pem);
  EXPECT_EQ(unauth.status, 401);
  auto nano = H2Request(app_->port(), "PUT", "/v1/pushcert",
                        {{"authorization", "Basic " + Base64Encode("nanomdm:" + key_)}},
                        a.cert_pem + a.key_pem);
  ASSERT_EQ(nano.status, 200) << nano.body;
  auto body = nlohmann::json::parse(nano.body);
  EXPECT_EQ(body["topic"], kTopicA);
  EXPECT_EQ(body["not_after"].get<std::string>().back(), 'Z');

  auto csr =
      Call("POST", "/api/v1/apns/csr", R"({"common_name":"Example MDM"})", "application/json");
  ASSERT_EQ(csr.status, 200) << csr.body;
  std::string csr_pem = nlohmann::json::parse(csr.body)["csr_pem"];
  std::string signed_cert = ca_.SignPushCsr(csr_pem, kTopicA);
  auto renewed = Call("PUT", "/api/v1/apns/certificate", signed_cert);
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_EQ(nlohmann::json::parse(renewed.body)["topic"], kTopicA);
}

}  // namespace
}  // namespace mdmgw::gateway

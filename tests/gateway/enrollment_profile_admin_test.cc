// Enrollment profiles over the admin API on the assembled gateway: the method table, CRUD with
// the table's refusals (changing nothing), the signed .mobileconfig export (verified by openssl)
// and the Apple Configurator usb-sa export.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "gateway/gateway_app.h"
#include "tests/support/test_pki.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;
constexpr char kTopic[] = "com.apple.mgmt.External.11111111-2222-3333-4444-555555555555";

class EnrollmentProfileAdminTest : public ::testing::Test {
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
  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "") {
    return H2Request(app_->port(), method, path, {{"authorization", "Bearer " + key_}}, body);
  }
  static std::string Code(const mdmgw::testing::H2TestClient::Stream& s) {
    auto doc = nlohmann::json::parse(s.body, nullptr, false);
    return doc.is_object() && doc.contains("error") ? doc["error"]["code"].get<std::string>() : "";
  }
  void UploadPushCert() {
    auto cert = ca_.IssuePushCert("push", kTopic);
    auto put = Call("PUT", "/api/v1/apns/certificate", cert.cert_pem + cert.key_pem);
    ASSERT_EQ(put.status, 200) << put.body;
  }
  std::string Create(const nlohmann::json& body) {
    auto r = Call("POST", "/api/v1/enrollment-profiles", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    return doc.is_object() ? doc.value("id", "") : "";
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

const nlohmann::json kScep = {
    {"mode", "scep"}, {"url", "https://scep.example.com/scep"}, {"challenge", "hunter2"}};

TEST_F(EnrollmentProfileAdminTest, MethodTableAndCrudWithRefusals) {
  auto methods = Call("GET", "/api/v1/enrollment-methods");
  ASSERT_EQ(methods.status, 200);
  EXPECT_EQ(nlohmann::json::parse(methods.body)["methods"].size(), 5u);

  auto refused =
      Call("POST", "/api/v1/enrollment-profiles",
           nlohmann::json{
               {"name", "Direct"}, {"method", "usb-direct"}, {"locked", true}, {"identity", kScep}}
               .dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Code(refused), "method_rule");
  EXPECT_NE(refused.body.find("usb-direct profiles cannot be locked"), std::string::npos);
  EXPECT_EQ(Code(Call("POST", "/api/v1/enrollment-profiles", "[]")), "bad_request");
  EXPECT_EQ(
      nlohmann::json::parse(Call("GET", "/api/v1/enrollment-profiles").body)["profiles"].size(), 0u)
      << "nothing stored";

  std::string id = Create({{"name", "Corp iPads"},
                           {"method", "dep"},
                           {"locked", true},
                           {"organization", "Example Org"},
                           {"identity", kScep}});
  ASSERT_EQ(id.rfind("ep_", 0), 0u);
  auto dup =
      Call("POST", "/api/v1/enrollment-profiles",
           nlohmann::json{{"name", "Corp iPads"}, {"method", "ota"}, {"identity", kScep}}.dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Code(dup), "name_taken");

  auto got = Call("GET", "/api/v1/enrollment-profiles/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.find("hunter2"), std::string::npos) << "the challenge is never returned";
  EXPECT_EQ(nlohmann::json::parse(got.body)["identity"]["challenge_set"], true);
  EXPECT_EQ(Call("GET", "/api/v1/enrollment-profiles/Corp%20iPads").status, 200) << "by name";

  auto bad_update =
      Call("PUT", "/api/v1/enrollment-profiles/" + id, R"({"method":"ota","locked":true})");
  EXPECT_EQ(Code(bad_update), "method_rule");
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/api/v1/enrollment-profiles/" + id).body)["method"],
            "dep")
      << "a refused update changes nothing";
  auto updated = Call("PUT", "/api/v1/enrollment-profiles/" + id, R"({"department":"IT"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(nlohmann::json::parse(updated.body)["department"], "IT");
  EXPECT_EQ(nlohmann::json::parse(updated.body)["locked"], true);

  EXPECT_EQ(Call("DELETE", "/api/v1/enrollment-profiles/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/enrollment-profiles/" + id).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/enrollment-profiles/" + id).status, 404);
}

TEST_F(EnrollmentProfileAdminTest, SignedExportsNeedThePushCertificate) {
  std::string direct = Create({{"name", "Direct"}, {"method", "usb-direct"}, {"identity", kScep}});
  std::string sa = Create({{"name", "Prepare"}, {"method", "usb-sa"}, {"identity", kScep}});
  auto early = Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-direct");
  EXPECT_EQ(early.status, 409);
  EXPECT_EQ(Code(early), "no_push_certificate");

  UploadPushCert();
  auto file = Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-direct");
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.headers["content-type"], "application/x-apple-aspen-config");
  EXPECT_NE(file.headers["content-disposition"].find("Direct.mobileconfig"), std::string::npos);
  std::string path = dir_.File("direct.mobileconfig");
  ASSERT_TRUE(WriteFileAtomic(path, file.body, 0600).ok());
  // Signed by the gateway's generated (self-signed) server certificate.
  std::string cmd = "openssl cms -verify -inform DER -in " + path + " -CAfile " +
                    app_->tls_cert_file() + " -purpose any 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string xml;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) xml.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << "signature verifies";
  EXPECT_NE(xml.find(kTopic), std::string::npos);
  EXPECT_NE(xml.find("<string>hunter2</string>"), std::string::npos) << "the device needs it";
  EXPECT_NE(xml.find("/mdm/checkin</string>"), std::string::npos);
  EXPECT_NE(xml.find("com.apple.security.root"), std::string::npos)
      << "the self-signed server certificate travels as a trust anchor";

  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=usb-direct")),
            "wrong_method");
  auto sa_export = Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=usb-sa");
  ASSERT_EQ(sa_export.status, 200) << sa_export.body;
  auto j = nlohmann::json::parse(sa_export.body);
  EXPECT_EQ(j["enrollment_url"],
            "https://localhost:" + std::to_string(app_->port()) + "/enroll/dep/" + sa);
  ASSERT_EQ(j["anchor_certificates"].size(), 1u);
  EXPECT_EQ(
      j["anchor_certificates"][0]["pem"].get<std::string>().rfind("-----BEGIN CERTIFICATE", 0), 0u);
  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + direct + "/export?format=usb-sa")),
            "wrong_method");
  EXPECT_EQ(Code(Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=zip")),
            "bad_request");
  auto preview = Call("GET", "/api/v1/enrollment-profiles/" + sa + "/export?format=mobileconfig");
  EXPECT_EQ(preview.status, 200);
}

}  // namespace
}  // namespace mdmgw::gateway

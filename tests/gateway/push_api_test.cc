// Pushing through the assembled gateway to apns-sim (a real process): certificate upload over the
// admin API, device import, POST /api/v1/push and NanoMDM's /v1/push/{ids}, 410 bookkeeping,
// renewal switching the TLS identity without a restart, metrics.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/child_process.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;
using namespace std::chrono_literals;

constexpr char kTopic[] = "com.apple.mgmt.External.9a9a9a9a-0000-4000-8000-00000000beef";

std::string Token(int i) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", 0xabc000 + i);
  return buf;
}

class PushApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ca_.IssueServer("sim");
    sim_ = std::make_unique<mdmgw::testing::ApnsSimProcess>(
        server.cert_file, server.key_file,
        std::vector<std::string>{"--unregistered", Token(3), "--initial-max-streams", "1"});
    ASSERT_NE(sim_->port, 0);
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    config_.apns.base_url = "https://localhost:" + std::to_string(sim_->port);
    config_.apns.ca_file = ca_.ca_file();
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
    push_ = ca_.IssuePushCert("push", kTopic);
  }
  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "") {
    bool pem = body.rfind("-----BEGIN", 0) == 0;
    return H2Request(app_->port(), method, path,
                     {{"authorization", "Bearer " + key_},
                      {"content-type", pem ? "application/x-pem-file" : "application/json"}},
                     body);
  }
  void ImportDevices(int n) {
    for (int i = 0; i < n; ++i) {
      nlohmann::json d = {{"topic", kTopic},
                          {"push_token_hex", Token(i)},
                          {"push_magic", "00000000-1111-2222-3333-" + std::to_string(100000 + i)}};
      auto r = Call("PUT", "/api/v1/devices/UDID-" + std::to_string(i), d.dump());
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  std::unique_ptr<mdmgw::testing::ApnsSimProcess> sim_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
  mdmgw::testing::IssuedFiles push_;
};

TEST_F(PushApiTest, PushWithoutCertificateSaysSo) {
  ImportDevices(1);
  auto r = Call("POST", "/api/v1/push", R"({"enrollment_ids":["UDID-0"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["results"][0]["error"]["code"], "no_certificate");
}

TEST_F(PushApiTest, UploadImportPushAnd410) {
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", push_.cert_pem + push_.key_pem).status, 200);
  ImportDevices(5);
  auto r =
      Call("POST", "/api/v1/push",
           R"({"enrollment_ids":["UDID-0","UDID-1","UDID-2","UDID-3","UDID-4","ghost","UDID-0"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["delivered"], 4);
  EXPECT_EQ(body["failed"], 2) << "UDID-3 is unregistered at APNs; ghost is unknown; dups merged";
  auto results = body["results"];
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0]["apns_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(results[3]["error"]["code"], "Unregistered");
  EXPECT_EQ(results[5]["error"]["code"], "unknown_enrollment");

  auto dev = Call("GET", "/api/v1/devices/UDID-3");
  ASSERT_EQ(dev.status, 200);
  auto device = nlohmann::json::parse(dev.body);
  EXPECT_FALSE(device["push"]["token_invalid_at_ms"].is_null()) << "410 recorded";
  EXPECT_EQ(dev.body.find("00000000-1111"), std::string::npos) << "PushMagic never returned";

  auto again = Call("POST", "/api/v1/push", R"({"enrollment_ids":["UDID-3"]})");
  EXPECT_EQ(nlohmann::json::parse(again.body)["results"][0]["error"]["code"], "token_unregistered");

  // A new TokenUpdate (here: re-import with a new token) clears the mark.
  nlohmann::json fresh = {{"topic", kTopic}, {"push_token_hex", Token(33)}, {"push_magic", "m"}};
  ASSERT_EQ(Call("PUT", "/api/v1/devices/UDID-3", fresh.dump()).status, 200);
  auto after = Call("POST", "/api/v1/push", R"({"enrollment_ids":["UDID-3"]})");
  EXPECT_EQ(nlohmann::json::parse(after.body)["delivered"], 1);

  auto metrics = H2Request(app_->port(), "GET", "/metrics", {}, "");
  EXPECT_NE(metrics.body.find("mdmgw_apns_pushes_total{result=\"delivered\",reason=\"\"} 5"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("mdmgw_apns_cert_expiry_seconds"), std::string::npos);
}

TEST_F(PushApiTest, NanoMdmPushWithBasicAuth) {
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", push_.cert_pem + push_.key_pem).status, 200);
  ImportDevices(3);
  auto r = H2Request(app_->port(), "GET", "/v1/push/UDID-0,UDID-1,nobody",
                     {{"authorization", "Basic " + Base64Encode("nanomdm:" + key_)}}, "");
  ASSERT_EQ(r.status, 200) << r.body;
  auto status = nlohmann::json::parse(r.body)["status"];
  EXPECT_TRUE(status["UDID-0"].contains("push_result"));
  EXPECT_TRUE(status["UDID-1"].contains("push_result"));
  EXPECT_TRUE(status["nobody"].contains("push_error"));
}

TEST_F(PushApiTest, RenewalSwitchesIdentityWithoutRestart) {
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", push_.cert_pem + push_.key_pem).status, 200);
  ImportDevices(2);
  EXPECT_EQ(nlohmann::json::parse(
                Call("POST", "/api/v1/push", R"({"enrollment_ids":["UDID-0"]})").body)["delivered"],
            1);
  auto renewed = ca_.IssuePushCert("renewed", kTopic);
  auto up = Call("PUT", "/api/v1/apns/certificate", renewed.cert_pem + renewed.key_pem);
  ASSERT_EQ(up.status, 200);
  std::string serial = nlohmann::json::parse(up.body)["serial"];
  EXPECT_EQ(nlohmann::json::parse(
                Call("POST", "/api/v1/push", R"({"enrollment_ids":["UDID-1"]})").body)["delivered"],
            1);
  // Ask the simulator which certificate the second push used.
  auto conn = mdmgw::testing::TlsTestConnection::Open(sim_->port, "h2", &push_);
  ASSERT_TRUE(conn);
  mdmgw::testing::H2TestClient sim(std::move(conn));
  int32_t id = sim.Submit("GET", "/sim/stats");
  sim.RunUntilDone(5s);
  auto by_cert = nlohmann::json::parse(sim.stream(id).body)["delivered_by_certificate_serial"];
  for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(by_cert[serial], 1) << by_cert.dump();
}

// APNs misbehaving under the assembled gateway: 503 storms and GOAWAYs mid-burst are retried to
// delivery with nothing doubled; a revoked certificate (403 BadCertificate) is reported per push,
// raises the alert metric and stops sending until a certificate is uploaded again.
TEST_F(PushApiTest, ApnsFaultsAreRetriedReportedAndAlerted) {
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", push_.cert_pem + push_.key_pem).status, 200);
  constexpr int kDevices = 300;
  ImportDevices(kDevices);
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 0; i < kDevices; ++i)
    if (i != 3) ids.push_back("UDID-" + std::to_string(i));  // 3 is unregistered at the sim
  std::string burst = nlohmann::json({{"enrollment_ids", ids}}).dump();
  auto sim = [&](const std::string& method, const std::string& path, const std::string& body) {
    auto conn = mdmgw::testing::TlsTestConnection::Open(sim_->port, "h2", &push_);
    EXPECT_TRUE(conn);
    if (!conn) return nlohmann::json();
    mdmgw::testing::H2TestClient client(std::move(conn));
    int32_t id = client.Submit(method, path, {}, body);
    client.RunUntilDone(5s);
    return nlohmann::json::parse(client.stream(id).body, nullptr, false);
  };
  auto metric = [&](const std::string& line_start) -> double {
    std::string text = H2Request(app_->port(), "GET", "/metrics", {}, "").body;
    size_t at = text.find("\n" + line_start + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + line_start.size() + 2));
  };

  // Every third push answered 503: all delivered after retries, none twice.
  sim("POST", "/sim/config", R"({"fail_every":3,"fail_status":503})");
  // A push whose every attempt lands on a 503 is reported as such (retryable), never dropped.
  auto storm = nlohmann::json::parse(Call("POST", "/api/v1/push", burst).body);
  EXPECT_EQ(storm["delivered"].get<int>() + storm["failed"].get<int>(), kDevices - 1);
  EXPECT_GE(storm["delivered"].get<int>(), kDevices - 20) << storm.dump().substr(0, 500);
  for (const auto& r : storm["results"]) {
    if (!r.contains("error")) continue;
    EXPECT_EQ(r["error"]["retryable"], true) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("503"), std::string::npos) << r.dump();
  }
  EXPECT_GT(metric("mdmgw_apns_push_retries_total"), 50);
  // GOAWAY every 40 pushes: streams past last-stream-id are resent; again nothing doubled.
  sim("POST", "/sim/reset", "");
  sim("POST", "/sim/config", R"({"fail_every":0,"goaway_every":40})");
  auto goaway = nlohmann::json::parse(Call("POST", "/api/v1/push", burst).body);
  EXPECT_EQ(goaway["delivered"], kDevices - 1);
  auto stats = sim("GET", "/sim/stats", "");
  EXPECT_GE(stats["goaways"].get<int>(), 5);
  EXPECT_EQ(stats["duplicates"], 0);
  EXPECT_EQ(stats["delivered_tokens"], kDevices - 1);

  // The certificate revoked at Apple.
  sim("POST", "/sim/config", R"({"goaway_every":0,"reject_certificate":true})");
  auto revoked = nlohmann::json::parse(Call("POST", "/api/v1/push", burst).body);
  EXPECT_EQ(revoked["delivered"], 0);
  EXPECT_EQ(revoked["failed"], kDevices - 1) << "every push is reported, none silently dropped";
  // Each push says why: Apple's reason, or the gateway's own once it stopped sending.
  std::set<std::string> codes;
  for (const auto& r : revoked["results"]) codes.insert(r["error"]["code"].get<std::string>());
  codes.erase("certificate_rejected");
  EXPECT_EQ(codes, (std::set<std::string>{"BadCertificate"})) << revoked["results"][0].dump();
  EXPECT_EQ(metric("mdmgw_apns_certificate_rejected"), 1) << "the alert is raised";
  int received = sim("GET", "/sim/stats", "")["received"].get<int>();
  auto still = nlohmann::json::parse(Call("POST", "/api/v1/push", burst).body);
  EXPECT_EQ(still["failed"], kDevices - 1);
  EXPECT_EQ(sim("GET", "/sim/stats", "")["received"].get<int>(), received)
      << "with the certificate rejected nothing more is sent to APNs";

  // A valid certificate again (here: Apple un-revokes and the admin re-uploads).
  sim("POST", "/sim/config", R"({"reject_certificate":false})");
  auto renewed = ca_.IssuePushCert("renewed", kTopic);
  ASSERT_EQ(Call("PUT", "/api/v1/apns/certificate", renewed.cert_pem + renewed.key_pem).status,
            200);
  EXPECT_EQ(metric("mdmgw_apns_certificate_rejected"), 0) << "the alert clears";
  auto back = nlohmann::json::parse(Call("POST", "/api/v1/push", burst).body);
  EXPECT_EQ(back["delivered"], kDevices - 1);
}

TEST_F(PushApiTest, BadPushRequestsAreClearErrors) {
  EXPECT_EQ(Call("POST", "/api/v1/push", "{}").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/push", R"({"enrollment_ids":[]})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/push", R"({"enrollment_ids":[1]})").status, 400);
  EXPECT_EQ(Call("PUT", "/api/v1/devices/x", R"({"push_token_hex":"zz"})").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/devices?limit=0").status, 400);
  EXPECT_EQ(H2Request(app_->port(), "POST", "/api/v1/push", {}, "{}").status, 401);
}

}  // namespace
}  // namespace mdmgw::gateway

// The assembled gateway (GatewayApp, as `mdm-gateway serve` runs it) over real TLS on loopback.
#include "gateway/gateway_app.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "fixtures/pki/test_pki.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H1Get;
using mdmgw::testing::H2Get;

class GatewayAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 2;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    port_ = app_->port();
  }

  std::string NewKey(const std::string& name) {
    auto created = app_->api_keys().Create(name);
    EXPECT_TRUE(created.ok());
    return created->key.Expose();
  }

  mdmgw::testing::TempDir dir_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  uint16_t port_ = 0;
};

TEST_F(GatewayAppTest, FirstStartCreatesDataDirKeyAndCertificate) {
  struct stat st {};
  ASSERT_EQ(::stat(config_.data_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((config_.data_dir + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((config_.data_dir + "/tls/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(::stat((config_.data_dir + "/mdm-gateway.db").c_str(), &st), 0);
}

TEST_F(GatewayAppTest, HealthReadyAndMetricsAnswerOnBothProtocols) {
  auto h2 = H2Get(port_, "/healthz");
  EXPECT_EQ(h2.status, 200);
  EXPECT_EQ(nlohmann::json::parse(h2.body)["status"], "ok");
  auto h1 = H1Get(port_, "/healthz");
  EXPECT_EQ(h1.status, 200);
  EXPECT_EQ(h1.body, h2.body);

  auto ready = H2Get(port_, "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ready.body)["checks"]["store"], "ok");

  // The server sees the earlier connections close asynchronously (later under load), so the
  // gauge is read until it settles on this very connection, for at most 5 s.
  auto metrics = H1Get(port_, "/metrics");
  for (int i = 0; i < 250 && metrics.body.find("mdmgw_open_connections 1\n") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = H1Get(port_, "/metrics");
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.body.find(
                "mdmgw_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                "mdmgw_http_request_duration_seconds_bucket{route=\"/readyz\",le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("mdmgw_open_connections 1"), std::string::npos)
      << "this very connection";
}

TEST_F(GatewayAppTest, AdminApiRequiresAValidUnrevokedKey) {
  std::string good = NewKey("admin");
  std::string revoked = NewKey("old");
  ASSERT_TRUE(app_->store().RevokeApiKey("old", 1).ok());

  auto code = [](const std::string& body) { return nlohmann::json::parse(body)["error"]["code"]; };
  auto none = H2Get(port_, "/api/v1/info");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(code(none.body), "unauthenticated");
  EXPECT_EQ(none.headers.at("content-type"), "application/json");

  auto wrong = H2Get(port_, "/api/v1/info", {{"authorization", "Bearer mdmgw_not-a-real-key"}});
  EXPECT_EQ(wrong.status, 401);
  auto gone = H2Get(port_, "/api/v1/info", {{"authorization", "Bearer " + revoked}});
  EXPECT_EQ(gone.status, 401);
  EXPECT_NE(gone.body.find("revoked"), std::string::npos);

  auto ok = H2Get(port_, "/api/v1/info", {{"authorization", "Bearer " + good}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(nlohmann::json::parse(ok.body)["store"]["backend"], "sqlite");

  auto h1_none = H1Get(port_, "/api/v1/apikeys");
  EXPECT_EQ(h1_none.status, 401);
  auto h1_ok = H1Get(port_, "/api/v1/apikeys", "Authorization: Bearer " + good + "\r\n");
  ASSERT_EQ(h1_ok.status, 200);
  auto keys = nlohmann::json::parse(h1_ok.body)["api_keys"];
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(h1_ok.body.find(good), std::string::npos) << "keys are never returned";
  EXPECT_EQ(h1_ok.body.find("hash"), std::string::npos) << "hashes are never returned";

  auto probe = H2Get(port_, "/api/v1/does-not-exist");
  EXPECT_EQ(probe.status, 401) << "unknown admin paths answer 401 before 404";
}

TEST_F(GatewayAppTest, RestartKeepsKeysAndCertificate) {
  std::string key = NewKey("persist");
  std::string cert_before;
  {
    std::ifstream in(app_->tls_cert_file());
    cert_before.assign(std::istreambuf_iterator<char>(in), {});
  }
  app_.reset();
  auto again = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  app_ = std::move(again).value();
  ASSERT_TRUE(app_->Start().ok());
  std::ifstream in(app_->tls_cert_file());
  std::string cert_after(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(cert_before, cert_after) << "certificate generated once, then reused";
  auto ok = H2Get(app_->port(), "/api/v1/info", {{"authorization", "Bearer " + key}});
  EXPECT_EQ(ok.status, 200);
}

}  // namespace
}  // namespace mdmgw::gateway

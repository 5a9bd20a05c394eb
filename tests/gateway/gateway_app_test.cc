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

TEST_F(GatewayAppTest, AdminChangesAreAuditedWithWhoWhatWhen) {
  std::string alice = NewKey("alice");
  auto auth = [](const std::string& key) {
    return std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer " + key},
                                                            {"content-type", "application/json"}};
  };
  int64_t before = Clock::System().NowUnixSeconds();
  auto created =
      mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth(alice), R"({"name":"bob"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string bob_key = nlohmann::json::parse(created.body)["key"];
  auto dup = mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth(bob_key),
                                       R"({"name":"bob"})");
  ASSERT_EQ(dup.status, 409) << dup.body;
  auto revoked = mdmgw::testing::H2Request(port_, "DELETE", "/api/v1/apikeys/bob", auth(alice), "");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  // Reads are not changes, and a request without a valid key has no "who": neither is recorded.
  ASSERT_EQ(H2Get(port_, "/api/v1/apikeys", auth(alice)).status, 200);
  ASSERT_EQ(mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth("mdmgw_wrong"),
                                      R"({"name":"eve"})")
                .status,
            401);

  auto log = H2Get(port_, "/api/v1/audit", auth(alice));
  ASSERT_EQ(log.status, 200) << log.body;
  auto records = nlohmann::json::parse(log.body)["records"];
  ASSERT_EQ(records.size(), 3u) << log.body;
  // Newest first: the revoke, the refused duplicate (by bob), the creation (by alice).
  EXPECT_EQ(records[0]["method"], "DELETE");
  EXPECT_EQ(records[0]["path"], "/api/v1/apikeys/bob");
  EXPECT_EQ(records[0]["route"], "/api/v1/apikeys/{key}");
  EXPECT_EQ(records[0]["actor"]["name"], "alice");
  EXPECT_EQ(records[0]["status"], 200);
  EXPECT_TRUE(records[0]["error"].is_null());
  EXPECT_EQ(records[1]["actor"]["name"], "bob");
  EXPECT_EQ(records[1]["status"], 409);
  EXPECT_EQ(records[1]["error"], "name_taken");
  EXPECT_EQ(records[2]["method"], "POST");
  EXPECT_EQ(records[2]["actor"]["name"], "alice");
  EXPECT_EQ(records[2]["status"], 201);
  EXPECT_GE(records[2]["at"].get<int64_t>(), before);
  EXPECT_NE(records[2]["remote"].get<std::string>().find("127.0.0.1"), std::string::npos);
  EXPECT_GT(records[0]["id"].get<int64_t>(), records[2]["id"].get<int64_t>());
  EXPECT_EQ(log.body.find(bob_key), std::string::npos) << "the new key itself is never recorded";

  // Paging: one at a time, following next_before to the end.
  std::vector<int64_t> ids;
  std::string next = "/api/v1/audit?limit=1";
  while (true) {
    auto page = H2Get(port_, next, auth(alice));
    ASSERT_EQ(page.status, 200) << page.body;
    auto j = nlohmann::json::parse(page.body);
    for (const auto& r : j["records"]) ids.push_back(r["id"]);
    if (!j.contains("next_before")) break;
    next = "/api/v1/audit?limit=1&before=" + std::to_string(j["next_before"].get<int64_t>());
    ASSERT_LT(ids.size(), 10u) << "paging must end";
  }
  EXPECT_EQ(ids.size(), 3u);
  auto bad = H2Get(port_, "/api/v1/audit?limit=0", auth(alice));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["error"]["code"], "invalid_limit");
  EXPECT_EQ(H2Get(port_, "/api/v1/audit?before=x", auth(alice)).status, 400);
}

TEST_F(GatewayAppTest, ReadOnlyKeysMayReadButNotChange) {
  std::string admin = NewKey("admin");
  auto auth = [](const std::string& key) {
    return std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer " + key},
                                                            {"content-type", "application/json"}};
  };
  auto created = mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth(admin),
                                           R"({"name":"dashboard","scope":"read"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(nlohmann::json::parse(created.body)["scope"], "read");
  std::string reader = nlohmann::json::parse(created.body)["key"];

  EXPECT_EQ(H2Get(port_, "/api/v1/info", auth(reader)).status, 200);
  auto keys = H2Get(port_, "/api/v1/apikeys", auth(reader));
  ASSERT_EQ(keys.status, 200);
  EXPECT_EQ(nlohmann::json::parse(keys.body)["api_keys"][1]["scope"], "read");

  auto refused = mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth(reader),
                                           R"({"name":"escalate"})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["error"]["code"], "read_only_key");
  EXPECT_EQ(
      mdmgw::testing::H2Request(port_, "DELETE", "/api/v1/apikeys/admin", auth(reader), "").status,
      403);
  EXPECT_EQ(mdmgw::testing::H2Request(port_, "PUT", "/api/v1/routing", auth(reader), "{}").status,
            403);
  auto list = app_->store().ListApiKeys();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u) << "nothing was created";
  EXPECT_FALSE((*list)[0].revoked_at) << "nothing was revoked";

  // The refusals are audited under the reader's name.
  auto log = H2Get(port_, "/api/v1/audit", auth(reader));
  ASSERT_EQ(log.status, 200);
  auto records = nlohmann::json::parse(log.body)["records"];
  ASSERT_EQ(records.size(), 4u) << log.body;
  EXPECT_EQ(records[0]["actor"]["name"], "dashboard");
  EXPECT_EQ(records[0]["status"], 403);
  EXPECT_EQ(records[0]["error"], "read_only_key");

  auto bad_scope = mdmgw::testing::H2Request(port_, "POST", "/api/v1/apikeys", auth(admin),
                                             R"({"name":"x","scope":"root"})");
  EXPECT_EQ(bad_scope.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_scope.body)["error"]["code"], "invalid_scope");

  // A read-only key does not count as the last admin: the admin key stays.
  auto last = mdmgw::testing::H2Request(port_, "DELETE", "/api/v1/apikeys/admin", auth(admin), "");
  EXPECT_EQ(last.status, 409) << last.body;
}

TEST_F(GatewayAppTest, RepeatedBadKeysFromOneAddressAreRefusedForAWhile) {
  std::string good = NewKey("admin");
  app_.reset();
  config_.server.auth_failure_limit = 5;
  config_.server.auth_failure_window_seconds = 3600;
  auto again = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  app_ = std::move(again).value();
  ASSERT_TRUE(app_->Start().ok());
  port_ = app_->port();

  // No Authorization header at all does not count (a console's first probe, a bare curl).
  for (int i = 0; i < 10; ++i) ASSERT_EQ(H2Get(port_, "/api/v1/info").status, 401);
  for (int i = 0; i < 5; ++i) {
    auto r =
        H2Get(port_, "/api/v1/info", {{"authorization", "Bearer mdmgw_guess" + std::to_string(i)}});
    ASSERT_EQ(r.status, 401) << "guess " << i;
  }
  auto blocked = H2Get(port_, "/api/v1/info", {{"authorization", "Bearer mdmgw_guess5"}});
  EXPECT_EQ(blocked.status, 429);
  EXPECT_EQ(nlohmann::json::parse(blocked.body)["error"]["code"], "too_many_auth_failures");
  ASSERT_TRUE(blocked.headers.count("retry-after"));
  EXPECT_GT(std::stoi(blocked.headers["retry-after"]), 3000);
  auto right = H1Get(port_, "/api/v1/info", "Authorization: Bearer " + good + "\r\n");
  EXPECT_EQ(right.status, 429) << "a blocked address learns nothing, even from the right key";
  EXPECT_EQ(H2Get(port_, "/healthz").status, 200) << "device and health paths are not affected";
}

}  // namespace
}  // namespace mdmgw::gateway

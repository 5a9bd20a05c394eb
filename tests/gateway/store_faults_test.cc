// The store failing under a running gateway: SQLite read-only and disk full. Writes get 503 with
// the store's reason and change nothing; reads and /healthz keep answering; /readyz is false
// while writes fail and true again, without a restart, once they work.
//
// The faults are real SQLite errors on the gateway's own connection: PRAGMA query_only gives
// SQLITE_READONLY exactly as a read-only file or file system does (the tests run as root, for
// whom chmod would not bite), and PRAGMA max_page_count gives SQLITE_FULL exactly as a full disk
// does (ENOSPC surfaces as SQLITE_FULL).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

class StoreFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 2;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("admin")->key.Expose();
  }

  mdmgw::testing::H2TestClient::Stream Call(const std::string& method, const std::string& path,
                                            const std::string& body = "") {
    return mdmgw::testing::H2Request(
        app_->port(), method, path,
        {{"authorization", "Bearer " + key_}, {"content-type", "application/json"}}, body);
  }
  void Sql(const std::string& sql) {
    auto r = app_->store().database().Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
  nlohmann::json Ready(int* status) {
    auto r = mdmgw::testing::H2Get(app_->port(), "/readyz");
    *status = r.status;
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  static std::string Csv(int rows) {
    std::string csv;
    for (int i = 0; i < rows; ++i) {
      char serial[16];
      std::snprintf(serial, sizeof serial, "C02X%08d", i);
      csv += std::string(serial) + ",cart " + std::to_string(i % 40) + " slot " +
             std::to_string(i) + "\n";
    }
    return csv;
  }

  mdmgw::testing::TempDir dir_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_;
};

TEST_F(StoreFaultsTest, ReadOnlyStoreRefusesWritesClearlyAndRecoversWithoutRestart) {
  int status = 0;
  Ready(&status);
  ASSERT_EQ(status, 200);
  Sql("PRAGMA query_only = 1");

  auto refused = Call("POST", "/api/v1/apikeys", R"({"name":"second"})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  auto error = nlohmann::json::parse(refused.body)["error"];
  EXPECT_NE(error["message"].get<std::string>().find("readonly"), std::string::npos)
      << refused.body;
  EXPECT_TRUE(refused.headers.count("retry-after")) << "a client is told when to try again";
  auto ready = Ready(&status);
  EXPECT_EQ(status, 503) << ready.dump();
  EXPECT_NE(ready["checks"]["store"].get<std::string>().find("readonly"), std::string::npos)
      << ready.dump();
  // Reads and liveness are unaffected.
  EXPECT_EQ(Call("GET", "/api/v1/apikeys").status, 200);
  EXPECT_EQ(mdmgw::testing::H2Get(app_->port(), "/healthz").status, 200);
  EXPECT_EQ(app_->store().ListApiKeys()->size(), 1u) << "nothing was written";

  Sql("PRAGMA query_only = 0");  // the file system is writable again
  Ready(&status);
  EXPECT_EQ(status, 200) << "readiness returns by itself: the probe write succeeds";
  auto created = Call("POST", "/api/v1/apikeys", R"({"name":"second"})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(app_->store().ListApiKeys()->size(), 2u);
}

TEST_F(StoreFaultsTest, DiskFullRefusesWritesKeepsWhatWasStoredAndRecovers) {
  auto profile =
      Call("POST", "/api/v1/enrollment-profiles", R"({"name":"Cart","method":"usb-sa"})");
  ASSERT_EQ(profile.status, 201) << profile.body;
  std::string id = nlohmann::json::parse(profile.body)["id"];
  std::string serials = "/api/v1/enrollment-profiles/" + id + "/serials";
  ASSERT_EQ(Call("PUT", serials, Csv(10)).status, 200);

  // Fill the database to a hard page limit: from here, a write that needs a page fails.
  auto pages = app_->store().database().Query("PRAGMA page_count");
  ASSERT_TRUE(pages.ok());
  int64_t limit = store::AsInt(pages->front()[0]) + 64;
  Sql("PRAGMA max_page_count = " + std::to_string(limit));
  Sql("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)");
  int filled = 0;
  while (
      app_->store().database().Exec("INSERT INTO test_filler (b) VALUES (zeroblob(4000))").ok()) {
    ASSERT_LT(++filled, 1000) << "the page limit did not bite";
  }

  auto full = Call("PUT", serials, Csv(5000));
  EXPECT_EQ(full.status, 503) << full.body;
  EXPECT_NE(full.body.find("full"), std::string::npos) << full.body;
  int status = 0;
  auto ready = Ready(&status);
  EXPECT_EQ(status, 503);
  EXPECT_NE(ready["checks"]["store"].get<std::string>().find("full"), std::string::npos)
      << ready.dump();
  auto kept = Call("GET", serials);
  ASSERT_EQ(kept.status, 200);
  EXPECT_EQ(nlohmann::json::parse(kept.body)["serials"].size(), 10u)
      << "the failed import left the stored list as it was";
  EXPECT_EQ(mdmgw::testing::H2Get(app_->port(), "/healthz").status, 200);

  Sql("PRAGMA max_page_count = 1073741823");  // space freed
  Ready(&status);
  EXPECT_EQ(status, 200);
  auto retried = Call("PUT", serials, Csv(5000));
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(nlohmann::json::parse(Call("GET", serials).body)["serials"].size(), 5000u);
}

}  // namespace
}  // namespace mdmgw::gateway

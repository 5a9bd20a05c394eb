// The admin web console's static files: served from the binary under /console/ with their types
// and a strict content security policy, without a key (they hold no data), while the API behind
// them still needs one; only embedded names exist, so no path reaches the file system.
#include <gtest/gtest.h>

#include "gateway/console_assets.h"
#include "gateway/gateway_app.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using mdmgw::testing::H2Request;

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
  }
  mdmgw::testing::H2TestClient::Stream Get(const std::string& path) {
    return H2Request(app_->port(), "GET", path, {}, "");
  }

  mdmgw::testing::TempDir dir_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
};

TEST_F(ConsoleTest, ServesTheEmbeddedFilesWithTypesAndPolicy) {
  auto index = Get("/console/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<script src=\"console.js\"></script>"), std::string::npos);
  EXPECT_NE(index.body.find("id=\"login-key\""), std::string::npos);
  const std::string csp = index.headers["content-security-policy"];
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");

  auto js = Get("/console/console.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  auto css = Get("/console/console.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.headers["content-type"], "text/css; charset=utf-8");

  // What is served is byte for byte what was embedded.
  for (const auto& a : ConsoleAssets()) {
    auto got = Get("/console/" + std::string(a.name));
    EXPECT_EQ(got.body, std::string(a.data, a.size)) << a.name;
  }
}

TEST_F(ConsoleTest, OnlyEmbeddedNamesExist) {
  auto bare = Get("/console");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(bare.headers["location"], "/console/");
  EXPECT_EQ(Get("/console/nope.js").status, 404);
  EXPECT_EQ(Get("/console/..%2F..%2Fetc%2Fpasswd").status, 404);
  EXPECT_EQ(Get("/console/%2e%2e%2fmaster.key").status, 404);
  EXPECT_EQ(Get("/console/index.html/x").status, 404);
}

TEST_F(ConsoleTest, TheApiBehindItStillNeedsTheKey) {
  EXPECT_EQ(Get("/console/").status, 200);
  EXPECT_EQ(Get("/api/v1/info").status, 401);
  auto key = app_->api_keys().Create("admin");
  ASSERT_TRUE(key.ok());
  auto info = H2Request(app_->port(), "GET", "/api/v1/info",
                        {{"authorization", "Bearer " + key->key.Expose()}}, "");
  EXPECT_EQ(info.status, 200);
}

}  // namespace
}  // namespace mdmgw::gateway

// DepServerService over a real SQLite store: secrets sealed at rest and opened for the API client.
#include "dep/dep_server_service.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "fixtures/pki/test_pki.h"
#include "store/store.h"
#include "tests/support/child_process.h"
#include "tests/support/dep_token.h"
#include "tests/support/fake_clock.h"

namespace mdmgw::dep {
namespace {

TEST(DepServerServiceTest, TokenSecretsAreSealedAndOpenAgain) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path());
  auto tls = ca.IssueServer("dep");
  testing::DepSimProcess sim(tls.cert_file, tls.key_file);
  ASSERT_NE(sim.port, 0);
  net::H1ClientOptions http_options;
  http_options.ca_file = ca.ca_file();
  auto http = net::H1Client::Create(http_options).value();
  auto store = store::Store::Open("sqlite::memory:").value();
  SecretBox box = SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value();
  testing::FakeClock clock(static_cast<int64_t>(std::time(nullptr)));
  DepServerService service(store->dep(), box, clock, *http);
  ASSERT_TRUE(service.Upsert("main", {}).ok());
  EXPECT_EQ(service.Info("main")->base_url, "https://mdmenrollment.apple.com");
  DepServerSettings to_sim;
  to_sim.base_url = "https://localhost:" + std::to_string(sim.port);
  ASSERT_TRUE(service.Upsert("main", to_sim).ok());
  EXPECT_TRUE(service.LoadToken("main").status().IsNotFound());
  auto cert = service.Certificate("main");
  ASSERT_TRUE(cert.ok());
  auto record = store->GetDepServer("main");
  EXPECT_EQ(record->sealed_key.find("PRIVATE KEY"), std::string::npos) << "key sealed at rest";
  ASSERT_TRUE(service
                  .UploadToken("main",
                               testing::MakeDepP7m(*cert, testing::DepTokenPlaintext("CK_abc")),
                               false)
                  .ok());
  record = store->GetDepServer("main");
  EXPECT_EQ(record->sealed_token.find("AS_"), std::string::npos) << "token sealed at rest";
  auto token = service.LoadToken("main");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->consumer_key, "CK_abc");
  EXPECT_EQ(token->access_secret.Expose(), "AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5");
  EXPECT_EQ(token->consumer_secret.Expose(), "CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6");
  auto info = service.Info("main");
  EXPECT_GT(info->token_days_left, 20000);
  EXPECT_EQ(info->server_uuid, "5E1A5E1A5E1A5E1A5E1A5E1A5E1A5E1A") << "confirmed with /account";
  EXPECT_EQ(info->org_name, "Example Org (dep-sim)");
}

}  // namespace
}  // namespace mdmgw::dep

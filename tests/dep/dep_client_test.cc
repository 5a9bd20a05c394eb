// DepClient against dep-sim as a real process: OAuth1 /session checked by an independent
// implementation, /account, fetch pages to the end, sync after churn, session expiry replayed,
// 429 with Retry-After, T_C_NOT_SIGNED, wrong secrets.
#include "dep/dep_client.h"

#include <gtest/gtest.h>

#include <set>

#include "fixtures/pki/test_pki.h"
#include "tests/support/child_process.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::dep {
namespace {

using namespace std::chrono_literals;

OAuth1Credentials SimCredentials() {
  OAuth1Credentials c;
  c.consumer_key = "CK_48dd68d198350f51258e885ce9a5c37ab7f98543c4a697323d75682a6c10a32501cb2470";
  c.consumer_secret = Secret<std::string>("CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6");
  c.token = "AT_O8473841760O4d4ed4c2e1e0fd7e7a1a8d1e8ed5d0e6c5d0c1ccO1571954";
  c.token_secret = Secret<std::string>("AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5");
  return c;
}

class DepClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ca_.IssueServer("dep");
    sim_ = std::make_unique<testing::DepSimProcess>(server.cert_file, server.key_file,
                                                    std::vector<std::string>{"--devices", "2500"});
    ASSERT_NE(sim_->port, 0) << "dep-sim did not start";
    net::H1ClientOptions options;
    options.ca_file = ca_.ca_file();
    http_ = net::H1Client::Create(options).value();
    base_ = "https://localhost:" + std::to_string(sim_->port);
  }
  nlohmann::json Sim(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    net::ClientRequest r;
    r.method = method;
    r.url = base_ + path;
    r.body = body;
    auto resp = http_->SendSync(std::move(r));
    return resp.ok() ? nlohmann::json::parse(resp->body, nullptr, false) : nlohmann::json();
  }

  testing::TempDir dir_;
  testing::TestCa ca_{dir_.path()};
  std::unique_ptr<testing::DepSimProcess> sim_;
  std::unique_ptr<net::H1Client> http_;
  std::string base_;
};

TEST_F(DepClientTest, AccountThenFetchToTheEndThenSync) {
  DepClient client(*http_, base_, SimCredentials());
  auto account = client.Account();
  ASSERT_TRUE(account.ok()) << account.status().ToString();
  EXPECT_EQ(account->server_uuid, "5E1A5E1A5E1A5E1A5E1A5E1A5E1A5E1A");
  EXPECT_EQ(account->fetch_limit_default, 1000);
  EXPECT_EQ(account->fetch_limit_maximum, 5000);
  EXPECT_EQ(client.sessions_started(), 1);

  std::set<std::string> serials;
  std::string cursor;
  bool more = true;
  int pages = 0;
  while (more) {
    nlohmann::json body = {{"limit", 1000}};
    if (!cursor.empty()) body["cursor"] = cursor;
    auto page = client.Call("POST", "/server/devices", &body);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& d : (*page)["devices"]) serials.insert(d["serial_number"].get<std::string>());
    cursor = (*page)["cursor"];
    more = (*page)["more_to_follow"];
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(serials.size(), 2500u);
  EXPECT_EQ(client.sessions_started(), 1) << "one session served every call";
  bool saw_short = false;
  for (const auto& s : serials) saw_short |= s.size() == 10;
  EXPECT_TRUE(saw_short) << "serial lengths vary";

  nlohmann::json again = {{"cursor", cursor}};
  auto exhausted = client.Call("POST", "/server/devices", &again);
  EXPECT_EQ(exhausted.status().reason(), "cursor_exhausted");

  Sim("POST", "/sim/churn", R"({"added":5,"modified":7,"deleted":3})");
  auto sync = client.Call("POST", "/devices/sync", &again);
  ASSERT_TRUE(sync.ok()) << sync.status().ToString();
  std::map<std::string, int> ops;
  for (const auto& d : (*sync)["devices"]) ++ops[d["op_type"].get<std::string>()];
  EXPECT_EQ(ops["added"], 5);
  EXPECT_EQ(ops["modified"] + ops["deleted"], 10);
  nlohmann::json no_cursor = nlohmann::json::object();
  EXPECT_EQ(client.Call("POST", "/devices/sync", &no_cursor).status().reason(), "cursor_required");
}

TEST_F(DepClientTest, ExpiredSessionIsRenewedOnceAndReplayed) {
  DepClient client(*http_, base_, SimCredentials());
  ASSERT_TRUE(client.Account().ok());
  Sim("POST", "/sim/config", R"({"expire_sessions":true})");
  auto account = client.Account();
  ASSERT_TRUE(account.ok()) << account.status().ToString();
  EXPECT_EQ(client.sessions_started(), 2);
}

TEST_F(DepClientTest, ThrottlingTermsAndBadSecretsAreSurfaced) {
  DepClient client(*http_, base_, SimCredentials());
  ASSERT_TRUE(client.Account().ok());
  Sim("POST", "/sim/config", R"({"throttle_next":1})");
  auto throttled = client.Account();
  EXPECT_EQ(throttled.status().reason(), "throttled");
  EXPECT_EQ(client.retry_after_seconds(), 1);
  EXPECT_TRUE(client.Account().ok()) << "one 429 only";

  Sim("POST", "/sim/config", R"({"terms_not_signed":true})");
  auto terms = client.Account();
  EXPECT_EQ(terms.status().reason(), "terms_not_signed");
  EXPECT_NE(terms.status().message().find("accept the new terms"), std::string::npos);
  Sim("POST", "/sim/config", R"({"terms_not_signed":false})");

  OAuth1Credentials wrong = SimCredentials();
  wrong.token_secret = Secret<std::string>("AS_wrong");
  DepClient bad(*http_, base_, std::move(wrong));
  EXPECT_EQ(bad.Account().status().reason(), "session_rejected");
  EXPECT_EQ(Sim("GET", "/sim/stats")["bad_signatures"], 1) << "the simulator checked the signature";
}

}  // namespace
}  // namespace mdmgw::dep

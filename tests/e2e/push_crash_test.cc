// Issue 8's crash safety for pushes: the real binary sends bursts of pushes to apns-sim while it is
// SIGKILLed 8 times and restarted. A push is not stored (the core asks again), so the promise is
// per request: an answered request reports every id as delivered or failed, and "delivered" is
// true (APNs accepted it); a request cut by the kill fails at the transport, visibly, and its
// retry after the restart delivers. Nothing hangs and nothing is silently dropped.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "tests/support/child_process.h"
#include "tests/support/gateway_process.h"
#include "tests/support/postgres_server.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kTopic[] = "com.apple.mgmt.External.0badf00d-0000-4000-8000-00000000beef";
constexpr int kDevices = 2000;
constexpr int kBurst = 100;

std::string Token(int i) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", 0xd00d000 + i);
  return buf;
}

// On SQLite in the data dir, and on a real PostgreSQL.
class PushCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PushCrashTest, BurstsUnderKillsAreDeliveredOrVisiblyFailed) {
  auto found_store = StoreUrlForBackend(GetParam(), "pushcrash");
  if (!found_store) {
    if (std::getenv("MDMGW_REQUIRE_POSTGRES") != nullptr) FAIL() << SharedPostgres().error();
    GTEST_SKIP() << SharedPostgres().error();
  }
  const std::string store_url = *found_store;
  TempDir dir;
  TestCa ca(dir.path());
  auto sim_tls = ca.IssueServer("apns");
  auto push = ca.IssuePushCert("push", kTopic);
  ApnsSimProcess sim(sim_tls.cert_file, sim_tls.key_file);
  ASSERT_NE(sim.port, 0);
  std::string data = dir.File("var");
  std::string key = CreateAdminKeyWithCli(MDMGW_GATEWAY_PATH, data, store_url);
  ASSERT_FALSE(key.empty()) << "apikey create failed";
  // Restarts keep the port: the callers keep sending to the same address.
  const uint16_t port = FreeTcpPort();
  std::unique_ptr<GatewayProcess> gateway;
  auto start = [&] {
    std::vector<std::string> flags{
        "--data-dir",      data,
        "--apns-base-url", "https://localhost:" + std::to_string(sim.port),
        "--apns-ca-file",  ca.ca_file(),
        "--log-level",     "error"};
    if (!store_url.empty()) {
      flags.push_back("--store");
      flags.push_back(store_url);
    }
    gateway = std::make_unique<GatewayProcess>(MDMGW_GATEWAY_PATH, flags, dir.File("gateway.log"),
                                               5s, port);
  };
  auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                  const std::string& type = "application/json") {
    return H2Request(port, method, path,
                     {{"authorization", "Bearer " + key}, {"content-type", type}}, body, 10s);
  };
  start();
  ASSERT_TRUE(gateway->started()) << "the gateway did not start";
  ASSERT_EQ(call("PUT", "/api/v1/apns/certificate", push.cert_pem + push.key_pem,
                 "application/x-pem-file")
                .status,
            200);
  for (int i = 0; i < kDevices; ++i) {
    nlohmann::json d = {{"topic", kTopic}, {"push_token_hex", Token(i)}, {"push_magic", "m"}};
    ASSERT_EQ(call("PUT", "/api/v1/devices/PUSH-" + std::to_string(i), d.dump()).status, 201);
  }

  std::mutex mu;
  std::set<std::string> reported_delivered;  // tokens a 200 answer said were delivered
  std::set<int> cut;  // device sets (bursts modulo kDevices / kBurst) whose request got no answer
  int answered = 0, incomplete_answers = 0;
  std::atomic<int> next{0};
  std::atomic<bool> stop{false};
  // Returns false when the request got no answer (the caller then backs off, as a core would).
  auto burst = [&](int b) -> bool {
    nlohmann::json ids = nlohmann::json::array();
    for (int i = 0; i < kBurst; ++i)
      ids.push_back("PUSH-" + std::to_string((b * kBurst + i) % kDevices));
    auto r = call("POST", "/api/v1/push", nlohmann::json({{"enrollment_ids", ids}}).dump());
    std::lock_guard lock(mu);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object()) {
      cut.insert(b % (kDevices / kBurst));
      return false;
    }
    ++answered;
    const auto& results = j["results"];
    if (results.size() != static_cast<size_t>(kBurst)) ++incomplete_answers;
    for (const auto& res : results) {
      if (res.value("delivered", false)) {
        int i = std::stoi(res["enrollment_id"].get<std::string>().substr(5));
        reported_delivered.insert(Token(i));
      } else if (!res.contains("error") || !res["error"].contains("code")) {
        ++incomplete_answers;
      }
    }
    return true;
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&] {
      while (!stop) {
        if (!burst(next++)) std::this_thread::sleep_for(50ms);
      }
    });
  }
  std::mt19937 rng(88);
  std::uniform_int_distribution<int> run_ms(200, 900);
  for (int kill = 0; kill < 8; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    gateway->Kill();
    std::this_thread::sleep_for(100ms);
    start();
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : workers) t.join();

  // The caller's recovery: retry every cut device set once the gateway is back.
  int retried_delivered = 0;
  for (int b : cut) {
    nlohmann::json ids = nlohmann::json::array();
    for (int i = 0; i < kBurst; ++i)
      ids.push_back("PUSH-" + std::to_string((b * kBurst + i) % kDevices));
    auto r = call("POST", "/api/v1/push", nlohmann::json({{"enrollment_ids", ids}}).dump());
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body);
    retried_delivered += j["delivered"].get<int>();
    for (const auto& res : j["results"]) {
      if (res.value("delivered", false)) {
        int i = std::stoi(res["enrollment_id"].get<std::string>().substr(5));
        reported_delivered.insert(Token(i));
      }
    }
  }

  auto conn = TlsTestConnection::Open(sim.port, "h2", &push);
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", "/sim/delivered");
  client.RunUntilDone(10s);
  auto delivered = nlohmann::json::parse(client.stream(id).body)["delivered"];
  int false_claims = 0;
  for (const std::string& token : reported_delivered) {
    if (!delivered.contains(token)) {
      ++false_claims;
      ADD_FAILURE() << "reported delivered but APNs never accepted " << token;
    }
  }
  EXPECT_GT(answered, 10) << "too few bursts were answered to mean anything";
  EXPECT_EQ(incomplete_answers, 0) << "an answered request reports every id, delivered or failed";
  EXPECT_EQ(retried_delivered, static_cast<int>(cut.size()) * kBurst)
      << "every cut device set is delivered on retry";
  std::printf(
      "pushes under 8 kills (%s): %d bursts of %d answered, %zu device sets cut (retried: %d "
      "delivered), "
      "%zu tokens reported delivered, %d false claims, %zu tokens at APNs\n",
      GetParam().c_str(), answered, kBurst, cut.size(), retried_delivered,
      reported_delivered.size(), false_claims, delivered.size());
  gateway->Stop();
}

INSTANTIATE_TEST_SUITE_P(Store, PushCrashTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdmgw::testing

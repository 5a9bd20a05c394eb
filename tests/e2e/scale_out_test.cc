// Issue 9: several gateway instances (the real binary, separate processes and data dirs) on one
// real PostgreSQL, as they would run behind a TCP load balancer. They share only the database, the
// master key (MDMGW_MASTER_KEY) and the TLS identity.
//   - Two instances and one DEP server: exactly one syncs it (the other is told who does); kill
//     that one with SIGKILL mid-fetch and the other takes over within the lease bound, from the
//     stored cursor, and the device table ends equal to dep-sim's ground truth.
//   - A push certificate uploaded on instance A is used by instance B's pushes within a second;
//     API keys, routing and enrollment profiles changed on A are used by B at once.
//   - Check-ins spread over three instances, one killed mid-run: devices retry on another, every
//     acknowledged TokenUpdate is stored, and every device gets through.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/encoding.h"
#include "common/random.h"
#include "fixtures/pki/test_pki.h"
#include "net/h1_client.h"
#include "tests/support/child_process.h"
#include "tests/support/dep_token.h"
#include "tests/support/gateway_process.h"
#include "tests/support/postgres_server.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kTopic[] = "com.apple.mgmt.External.5ca1e000-0000-4000-8000-00000000beef";

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store_url = StoreUrlForBackend("postgres", "scaleout");
    if (!store_url) {
      if (std::getenv("MDMGW_REQUIRE_POSTGRES") != nullptr) FAIL() << SharedPostgres().error();
      GTEST_SKIP() << SharedPostgres().error();
    }
    store_url_ = *store_url;
    // Every instance opens the same sealed secrets: one master key for all, from the environment.
    ::setenv("MDMGW_MASTER_KEY", Base64Encode(RandomBytes(32)).c_str(), 1);
    tls_ = ca_.IssueServer("gateway");
    key_ = CreateAdminKeyWithCli(MDMGW_GATEWAY_PATH, dir_.File("var0"), store_url_);
    ASSERT_FALSE(key_.empty()) << "the CLI made no key";
  }
  void TearDown() override {
    instances_.clear();
    ::unsetenv("MDMGW_MASTER_KEY");
  }

  // Starts instance |i| (its own data dir and log) with the shared store and TLS identity.
  GatewayProcess& Start(size_t i, const std::vector<std::string>& extra = {}) {
    if (instances_.size() <= i) instances_.resize(i + 1);
    std::vector<std::string> flags{"--data-dir",      dir_.File("var" + std::to_string(i)),
                                   "--store",         store_url_,
                                   "--tls-cert-file", tls_.cert_file,
                                   "--tls-key-file",  tls_.key_file,
                                   "--log-level",     "info"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    instances_[i] = std::make_unique<GatewayProcess>(
        MDMGW_GATEWAY_PATH, flags, dir_.File("gateway" + std::to_string(i) + ".log"));
    if (!instances_[i]->started()) {
      std::string log = ReadFile(dir_.File("gateway" + std::to_string(i) + ".log")).value_or("");
      ADD_FAILURE() << "instance " << i
                    << " did not start: " << log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
    }
    return *instances_[i];
  }
  GatewayProcess& At(size_t i) { return *instances_.at(i); }
  H2TestClient::Stream Call(size_t i, const std::string& method, const std::string& path,
                            const std::string& body = "", std::chrono::milliseconds t = 10s,
                            const std::string& type = "application/json") {
    return At(i).Call(key_, method, path, body, t, type);
  }
  nlohmann::json Json(size_t i, const std::string& path) {
    return nlohmann::json::parse(Call(i, "GET", path).body, nullptr, false);
  }
  std::string InstanceId(size_t i) { return Json(i, "/api/v1/cluster").value("instance", ""); }
  // Who holds lease |name| now, as instance |i| reads it ("" when nobody).
  std::string LeaseHolder(size_t i, const std::string& name) {
    auto cluster = Json(i, "/api/v1/cluster");
    if (!cluster.is_object()) return "";
    for (const auto& l : cluster["leases"]) {
      if (l["name"] == name && l["holder"].is_string()) return l["holder"];
    }
    return "";
  }

  TempDir dir_;
  TestCa ca_{dir_.path()};
  IssuedFiles tls_;
  std::string store_url_;
  std::string key_;
  std::vector<std::unique_ptr<GatewayProcess>> instances_;
};

TEST_F(ScaleOutTest, OneInstanceSyncsADepServerAndAnotherTakesOverWhenItDies) {
  constexpr int kDevices = 60000;
  auto sim_tls = ca_.IssueServer("dep");
  DepSimProcess sim(sim_tls.cert_file, sim_tls.key_file, {"--devices", std::to_string(kDevices)});
  ASSERT_NE(sim.port, 0);
  std::string sim_url = "https://localhost:" + std::to_string(sim.port);
  net::H1ClientOptions sim_options;
  sim_options.ca_file = ca_.ca_file();
  auto sim_call = [&](const std::string& path, const std::string& body = "") {
    // A new client each time: a kept-alive connection may have been closed by the idle simulator.
    auto sim_http = net::H1Client::Create(sim_options).value();
    net::ClientRequest r;
    r.method = body.empty() ? "GET" : "POST";
    r.url = sim_url + path;
    r.body = body;
    auto resp = sim_http->SendSync(std::move(r));
    return resp.ok() ? nlohmann::json::parse(resp->body, nullptr, false) : nlohmann::json();
  };
  // 60 pages of 1000 at 80 ms each: the full fetch takes seconds, so the kill lands inside it.
  sim_call("/sim/config", R"({"page_delay_ms":80})");
  std::vector<std::string> dep_flags{"--dep-ca-file", ca_.ca_file()};
  Start(0, dep_flags);
  Start(1, dep_flags);
  ASSERT_TRUE(At(0).started() && At(1).started());
  std::string ids[2] = {InstanceId(0), InstanceId(1)};
  ASSERT_NE(ids[0], ids[1]);

  // The server and its token go in through instance 0; instance 1 may well be the one to use them.
  ASSERT_EQ(Call(0, "PUT", "/api/v1/dep/servers/main", nlohmann::json{{"base_url", sim_url}}.dump())
                .status,
            201);
  std::string cert = Call(0, "GET", "/api/v1/dep/servers/main/certificate").body;
  ASSERT_EQ(Call(0, "PUT", "/api/v1/dep/servers/main/token",
                 MakeDepP7m(cert, DepTokenPlaintext("CK_scale")), 10s, "application/pkcs7-mime")
                .status,
            200);
  // Both instances are asked to sync; whichever takes the lease first does.
  EXPECT_EQ(Call(1, "POST", "/api/v1/dep/servers/main/sync").status, 202);
  EXPECT_EQ(Call(0, "POST", "/api/v1/dep/servers/main/sync").status, 202);
  auto stored = [&](size_t i) -> int64_t {
    return Json(i, "/api/v1/dep/servers/main").value("devices", int64_t{-1});
  };
  int64_t at_kill = 0;
  for (int i = 0; i < 400 && at_kill < 10000; ++i) {
    std::this_thread::sleep_for(50ms);
    at_kill = stored(0);
  }
  ASSERT_GE(at_kill, 10000) << "the fetch did not get going";
  ASSERT_LT(at_kill, kDevices) << "the fetch ended before the kill";
  std::string holder = LeaseHolder(0, "dep-sync:main");
  ASSERT_TRUE(holder == ids[0] || holder == ids[1]) << "holder: " << holder;
  size_t syncing = holder == ids[0] ? 0 : 1, other = 1 - syncing;

  // Exactly one syncs: the other, asked to sync now, says who does instead of fetching too.
  auto refused = Call(other, "POST", "/api/v1/dep/servers/main/sync?wait=1", "", 30s);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("running_elsewhere"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find(holder), std::string::npos) << "names the instance";

  // The syncing instance dies mid-fetch; the other takes the lease over and finishes.
  at_kill = stored(other);
  auto killed_at = Clock::now();
  At(syncing).Kill();
  double takeover = -1;
  while (SecondsSince(killed_at) < 60) {
    if (LeaseHolder(other, "dep-sync:main") == ids[other]) {
      takeover = SecondsSince(killed_at);
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(takeover, 0) << "nobody took the sync over";
  EXPECT_LE(takeover, 30.0) << "takeover within the bound (lease TTL 15 s + 5 s polling)";
  bool done = false;
  nlohmann::json server;
  auto finish_by = Clock::now() + 120s;
  while (Clock::now() < finish_by && !done) {
    std::this_thread::sleep_for(200ms);
    server = Json(other, "/api/v1/dep/servers/main");
    done = server.is_object() && server["sync"].is_object() &&
           server["sync"]["last_result"].value("ok", false) &&
           server.value("devices", int64_t{0}) == kDevices;
  }
  ASSERT_TRUE(done) << server.dump().substr(0, 800);

  // The table equals Apple's list, every device once; the fetch went on from the cursor.
  std::vector<std::string> listed;
  std::string cursor;
  while (true) {
    auto page = Call(
        other, "GET",
        "/api/v1/dep/devices?server=main&limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    auto body = nlohmann::json::parse(page.body);
    for (const auto& d : body["devices"]) listed.push_back(d["serial_number"]);
    if (!body.contains("next_cursor")) break;
    cursor = body["next_cursor"];
  }
  std::set<std::string> unique(listed.begin(), listed.end());
  EXPECT_EQ(unique.size(), listed.size()) << "no device twice";
  std::set<std::string> truth;
  auto sim_truth = sim_call("/sim/truth");
  ASSERT_TRUE(sim_truth.is_object()) << "dep-sim's ground truth";
  for (const auto& s : sim_truth["devices"]) truth.insert(s.get<std::string>());
  EXPECT_EQ(truth.size(), static_cast<size_t>(kDevices));
  EXPECT_EQ(unique, truth) << "converged to Apple's list";
  int64_t pages = sim_call("/sim/stats").value("fetch_pages", int64_t{0});
  EXPECT_LE(pages, 62) << "continued from the stored cursor, not fetched again";
  std::printf(
      "DEP sync takeover: %lld devices stored when instance %zu was killed; instance %zu held "
      "the lease %.1f s later; fetch pages in all %lld (60 needed)\n",
      static_cast<long long>(at_kill), syncing, other, takeover, static_cast<long long>(pages));
}

TEST_F(ScaleOutTest, ChangesOnOneInstanceAreUsedByTheOthersAtOnce) {
  auto sim_tls = ca_.IssueServer("apns");
  ApnsSimProcess sim(sim_tls.cert_file, sim_tls.key_file);
  ASSERT_NE(sim.port, 0);
  std::vector<std::string> apns_flags{"--apns-base-url",
                                      "https://localhost:" + std::to_string(sim.port),
                                      "--apns-ca-file", ca_.ca_file()};
  Start(0, apns_flags);
  Start(1, apns_flags);
  ASSERT_TRUE(At(0).started() && At(1).started());
  auto push = ca_.IssuePushCert("push", kTopic);
  auto sim_stats = [&] {
    auto conn = TlsTestConnection::Open(sim.port, "h2", &push);
    if (!conn) return nlohmann::json();
    H2TestClient client(std::move(conn));
    int32_t id = client.Submit("GET", "/sim/stats");
    client.RunUntilDone(5s);
    return nlohmann::json::parse(client.stream(id).body, nullptr, false);
  };
  // Pushes one device through instance 1 until APNs sees certificate |serial| used, or 1 s passes;
  // the seconds it took (-1: not within the second).
  auto first_push_with = [&](std::string serial, const std::string& device) {
    for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto from = Clock::now();
    while (SecondsSince(from) < 1.0) {
      Call(1, "POST", "/api/v1/push", nlohmann::json{{"enrollment_ids", {device}}}.dump());
      auto by_cert = sim_stats()["delivered_by_certificate_serial"];
      if (by_cert.is_object() && by_cert.value(serial, 0) > 0) return SecondsSince(from);
      std::this_thread::sleep_for(20ms);
    }
    return -1.0;
  };
  for (int d = 0; d < 3; ++d) {
    nlohmann::json device = {{"topic", kTopic},
                             {"push_token_hex", std::string(63, 'a') + std::to_string(d)},
                             {"push_magic", "magic"}};
    ASSERT_EQ(Call(0, "PUT", "/api/v1/devices/SCALE-" + std::to_string(d), device.dump()).status,
              201);
  }

  // The first certificate, uploaded on instance 0, is used by instance 1 (which started without).
  auto up = Call(0, "PUT", "/api/v1/apns/certificate", push.cert_pem + push.key_pem, 10s,
                 "application/x-pem-file");
  ASSERT_EQ(up.status, 200) << up.body;
  double first = first_push_with(nlohmann::json::parse(up.body)["serial"], "SCALE-0");
  EXPECT_GE(first, 0) << "instance 1 pushed with instance 0's upload within a second";
  // A renewal on instance 0: instance 1 switches to it within a second.
  auto renewed = ca_.IssuePushCert("renewed", kTopic);
  auto up2 = Call(0, "PUT", "/api/v1/apns/certificate", renewed.cert_pem + renewed.key_pem, 10s,
                  "application/x-pem-file");
  ASSERT_EQ(up2.status, 200) << up2.body;
  double second = first_push_with(nlohmann::json::parse(up2.body)["serial"], "SCALE-1");
  EXPECT_GE(second, 0) << "instance 1 pushed with the renewal within a second";
  std::printf(
      "push certificate uploaded on instance 0, used by instance 1 after %.3f s (first "
      "upload) and %.3f s (renewal)\n",
      first, second);

  // API keys: made on 0, usable on 1; revoked on 0, refused by 1 at once.
  auto made = Call(0, "POST", "/api/v1/apikeys", R"({"name":"dashboard","scope":"read"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string read_key = nlohmann::json::parse(made.body)["key"];
  EXPECT_EQ(At(1).Call(read_key, "GET", "/api/v1/devices").status, 200);
  ASSERT_EQ(Call(0, "DELETE", "/api/v1/apikeys/dashboard").status, 200);
  EXPECT_EQ(At(1).Call(read_key, "GET", "/api/v1/devices").status, 401);

  // Routing: a table put on 0 is the one 1 routes by.
  nlohmann::json table = {{"upstreams", {{"core-b", {{"url", "http://127.0.0.1:9/mdm"}}}}},
                          {"devices", {{"SCALE-2", "core-b"}}}};
  ASSERT_EQ(Call(0, "PUT", "/api/v1/routing", table.dump()).status, 200);
  bool routed = false;
  for (auto from = Clock::now(); SecondsSince(from) < 1.0 && !routed;
       std::this_thread::sleep_for(20ms)) {
    auto seen = Json(1, "/api/v1/routing");
    routed = seen.is_object() && seen["devices"].is_object() &&
             seen["devices"].value("SCALE-2", "") == "core-b";
  }
  EXPECT_TRUE(routed) << "instance 1 routes by instance 0's table within a second";

  // Enrollment profiles: an edit on 0 shows in the profile 1 builds, even within the same second
  // as the build 1 has cached.
  auto created = Call(0, "POST", "/api/v1/enrollment-profiles",
                      R"({"name":"Direct","method":"usb-direct","organization":"Org One"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string profile = nlohmann::json::parse(created.body)["id"];
  std::string path = "/api/v1/enrollment-profiles/" + profile + "/export?format=usb-direct";
  auto before = Call(1, "GET", path);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_NE(before.body.find("Org One"), std::string::npos);
  ASSERT_EQ(
      Call(0, "PUT", "/api/v1/enrollment-profiles/" + profile, R"({"organization":"Org Two"})")
          .status,
      200);
  bool rebuilt = false;
  for (auto from = Clock::now(); SecondsSince(from) < 1.0 && !rebuilt;
       std::this_thread::sleep_for(20ms)) {
    rebuilt = Call(1, "GET", path).body.find("Org Two") != std::string::npos;
  }
  EXPECT_TRUE(rebuilt) << "instance 1 serves the edited profile within a second";
}

TEST_F(ScaleOutTest, CheckInsSpreadOverThreeInstancesLoseNothingWhenOneDies) {
  CoreStubProcess core;
  ASSERT_NE(core.port, 0);
  auto device = ca_.IssueClient("device", "scale-out-device");
  auto push = ca_.IssuePushCert("push", kTopic);
  std::vector<std::string> flags{"--devices-ca-file", ca_.ca_file(), "--upstream-url",
                                 "http://127.0.0.1:" + std::to_string(core.port) + "/mdm"};
  for (size_t i = 0; i < 3; ++i) Start(i, flags);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(At(i).started());
  ASSERT_EQ(Call(0, "PUT", "/api/v1/apns/certificate", push.cert_pem + push.key_pem, 10s,
                 "application/x-pem-file")
                .status,
            200);
  uint16_t ports[3] = {At(0).port(), At(1).port(), At(2).port()};

  // Four workers play devices: each device goes to the next instance in turn (the balancer) and,
  // when it gets no 200 for its TokenUpdate, retries on the next one, as a device would retry.
  std::mutex mu;
  std::map<std::string, int> acknowledged_by;  // udid → instance that answered 200
  std::set<std::string> gave_up;
  std::atomic<int> next{0}, retries{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (!stop) {
        int n = next++;
        std::string udid = "SCALE-" + std::to_string(n);
        bool ok = false;
        for (int attempt = 0; attempt < 6 && !ok; ++attempt) {
          int target = (n + attempt) % 3;
          if (attempt > 0) ++retries;
          ok = DeviceSimTokenUpdateAcknowledged(MDMGW_DEVICE_SIM_PATH, ports[target],
                                                device.cert_file, device.key_file, kTopic,
                                                ca_.ca_file(), udid, "S" + std::to_string(n));
          if (ok) {
            std::lock_guard lock(mu);
            acknowledged_by[udid] = target;
          }
        }
        if (!ok) {
          std::lock_guard lock(mu);
          gave_up.insert(udid);
        }
      }
    });
  }
  std::this_thread::sleep_for(2s);
  At(2).Kill();  // one instance lost mid-run; the balancer keeps sending it a third of devices
  std::this_thread::sleep_for(3s);
  stop = true;
  for (auto& t : workers) t.join();

  ASSERT_GT(acknowledged_by.size(), 30u) << "too few check-ins to mean anything";
  EXPECT_TRUE(gave_up.empty()) << gave_up.size() << " devices found no live instance";
  int per_instance[3] = {0, 0, 0};
  int missing = 0;
  for (const auto& [udid, instance] : acknowledged_by) {
    ++per_instance[instance];
    auto r = Call(0, "GET", "/api/v1/devices/" + udid);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    bool present = r.status == 200 && j.is_object() && j["push"].value("token_present", false);
    if (!present) {
      ++missing;
      ADD_FAILURE() << udid << " was acknowledged by instance " << instance
                    << " but is not stored: " << r.status << " " << r.body;
    }
  }
  EXPECT_GT(per_instance[2], 0) << "instance 2 took check-ins before it died";
  EXPECT_GT(retries.load(), 0) << "devices met the dead instance and retried";
  std::printf(
      "check-ins over 3 instances, one killed: %zu devices acknowledged (%d/%d/%d by instance), "
      "%d retries on another instance, %zu gave up, %d lost\n",
      acknowledged_by.size(), per_instance[0], per_instance[1], per_instance[2], retries.load(),
      gave_up.size(), missing);
}

}  // namespace
}  // namespace mdmgw::testing

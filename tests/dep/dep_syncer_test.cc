// DepSyncer against dep-sim (a real process): a full fetch of 20,000 devices, then syncs after
// churn, must leave the gateway's table equal to the simulator's ground truth; expired sessions,
// a 429 storm, EXPIRED_CURSOR and T_C_NOT_SIGNED along the way.
#include "dep/dep_syncer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <set>

#include "tests/support/dep_sim_env.h"

namespace mdmgw::dep {
namespace {

class DepSyncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(env_.port(), 0) << "dep-sim did not start";
    ASSERT_TRUE(env_.OpenGatewaySide(dir_.File("gw.db"), "CK_sync"));
    store_ = &env_.store();
    clients_ = std::make_unique<DepClients>(store_->dep(), env_.servers(), env_.http());
    syncer_ = std::make_unique<DepSyncer>(store_->dep(), *clients_);
  }
  nlohmann::json Sim(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return env_.Sim(method, path, body);
  }
  std::set<std::string> Truth() { return env_.Truth(); }
  std::set<std::string> Stored() { return env_.Stored(); }

  testing::TempDir dir_;
  testing::TestCa ca_{dir_.path()};
  testing::DepSimEnv env_{ca_, {"--devices", "20000"}};
  store::Store* store_ = nullptr;
  std::unique_ptr<DepClients> clients_;
  std::unique_ptr<DepSyncer> syncer_;
};

TEST_F(DepSyncerTest, FullFetchThenThreeChurnSyncsEqualGroundTruth) {
  DepSyncResult first = syncer_->SyncOnce("main");
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_TRUE(first.full_fetch);
  EXPECT_EQ(first.fetched, 20000);
  EXPECT_EQ(first.devices, 20000);
  EXPECT_EQ(Stored(), Truth());
  EXPECT_EQ(store_->GetDepSyncState("main")->phase, "sync");

  for (int round = 0; round < 3; ++round) {
    Sim("POST", "/sim/churn", R"({"added":150,"modified":400,"deleted":120})");
    if (round == 1) Sim("POST", "/sim/config", R"({"expire_sessions":true})");
    DepSyncResult r = syncer_->SyncOnce("main");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.full_fetch);
    EXPECT_EQ(r.added, 150);
    EXPECT_GT(r.deleted, 0);
    EXPECT_EQ(Stored(), Truth()) << "round " << round;
  }
  auto stats = Sim("GET", "/sim/stats");
  // Sessions: the token upload's /account check, the syncer's own, and one renewal after expiry.
  EXPECT_EQ(stats["sessions"], 3);
}

TEST_F(DepSyncerTest, ThrottlingExpiredCursorAndTermsAreHandled) {
  ASSERT_TRUE(syncer_->SyncOnce("main").ok);
  Sim("POST", "/sim/churn", R"({"added":10})");
  Sim("POST", "/sim/config", R"({"throttle_next":2})");
  DepSyncResult throttled = syncer_->SyncOnce("main");
  ASSERT_TRUE(throttled.ok) << "Retry-After honoured: " << throttled.error;
  EXPECT_EQ(throttled.added, 10);

  // 503 without Retry-After: the syncer backs off by itself (1 s, then 2 s, jittered).
  Sim("POST", "/sim/churn", R"({"added":3})");
  Sim("POST", "/sim/config", R"({"unavailable_next":2})");
  auto started = std::chrono::steady_clock::now();
  DepSyncResult unavailable = syncer_->SyncOnce("main");
  ASSERT_TRUE(unavailable.ok) << unavailable.error;
  EXPECT_EQ(unavailable.added, 3);
  EXPECT_EQ(Sim("GET", "/sim/stats")["unavailable"], 2);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500))
      << "it waited rather than asking again at once";

  Sim("POST", "/sim/config", R"({"expire_cursors":true})");
  Sim("POST", "/sim/churn", R"({"deleted":25})");
  DepSyncResult refetched = syncer_->SyncOnce("main");
  ASSERT_TRUE(refetched.ok) << refetched.error;
  EXPECT_TRUE(refetched.full_fetch) << "EXPIRED_CURSOR starts a full fetch";
  // A full fetch cannot see devices deleted before it; everything Apple lists is stored.
  std::set<std::string> truth = Truth();
  std::set<std::string> stored = Stored();
  EXPECT_TRUE(std::includes(stored.begin(), stored.end(), truth.begin(), truth.end()));

  Sim("POST", "/sim/config", R"({"terms_not_signed":true,"expire_sessions":true})");
  DepSyncResult terms = syncer_->SyncOnce("main");
  EXPECT_FALSE(terms.ok);
  EXPECT_EQ(terms.error_code, "terms_not_signed");
  auto state = store_->GetDepSyncState("main");
  EXPECT_NE(state->last_result.find("terms_not_signed"), std::string::npos) << "surfaced";
}

TEST_F(DepSyncerTest, SessionsExpiringMidFetchAreRenewedAndNothingIsMissed) {
  // 20 pages of 1000; Apple's session dies after every third page.
  Sim("POST", "/sim/config", R"({"expire_sessions_every":3})");
  DepSyncResult r = syncer_->SyncOnce("main");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.fetched, 20000);
  EXPECT_EQ(Stored(), Truth());
  auto stats = Sim("GET", "/sim/stats");
  EXPECT_GE(stats["rejected_sessions"].get<int>(), 6) << "the expiry really happened mid-fetch";
  EXPECT_EQ(stats["sessions"].get<int>(), 2 + stats["rejected_sessions"].get<int>())
      << "one new session per rejection, no more";
}

TEST_F(DepSyncerTest, A429StormEndsTheRunAndTheNextResumesFromTheStoredCursor) {
  // /account and five pages succeed, then Apple answers 429 (Retry-After: 1) more often than the
  // syncer is willing to wait.
  Sim("POST", "/sim/config", R"({"throttle_after":6,"throttle_next":50})");
  DepSyncResult stormed = syncer_->SyncOnce("main");
  EXPECT_FALSE(stormed.ok);
  EXPECT_EQ(stormed.error_code, "throttled");
  EXPECT_EQ(stormed.pages, 5);
  EXPECT_EQ(*store_->CountDepDevices("main"), 5000) << "the pages before the storm are kept";
  auto stats = Sim("GET", "/sim/stats");
  EXPECT_LE(stats["throttled"].get<int>(), 6) << "a bounded number of tries, no spinning";

  Sim("POST", "/sim/config", R"({"throttle_next":0})");
  int64_t pages_before = Sim("GET", "/sim/stats")["fetch_pages"];
  DepSyncResult resumed = syncer_->SyncOnce("main");
  ASSERT_TRUE(resumed.ok) << resumed.error;
  EXPECT_EQ(resumed.fetched, 15000) << "resumed at page 6, not from the start";
  EXPECT_EQ(Sim("GET", "/sim/stats")["fetch_pages"].get<int64_t>() - pages_before, 15);
  EXPECT_EQ(Stored(), Truth());
}

TEST_F(DepSyncerTest, AnswersSlowerThanTheTimeoutEndTheRunAndTheNextResumes) {
  // Each exchange gets 1 s; Apple now takes 1.5 s per answer.
  clients_->set_request_timeout(std::chrono::milliseconds(1000));
  Sim("POST", "/sim/config", R"({"page_delay_ms":1500})");
  auto start = std::chrono::steady_clock::now();
  DepSyncResult slow = syncer_->SyncOnce("main");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(slow.ok);
  EXPECT_FALSE(slow.error_code.empty()) << "the run says why it ended: " << slow.error;
  EXPECT_LT(took, std::chrono::seconds(30)) << "bounded tries, no hang";
  EXPECT_LT(*store_->CountDepDevices("main"), 20000);

  Sim("POST", "/sim/config", R"({"page_delay_ms":0})");
  DepSyncResult resumed = syncer_->SyncOnce("main");
  ASSERT_TRUE(resumed.ok) << resumed.error;
  EXPECT_EQ(Stored(), Truth());
  std::printf("slow DEP: the run ended after %.1f s with %s (%s)\n",
              std::chrono::duration<double>(took).count(), slow.error_code.c_str(),
              slow.error.c_str());
}

TEST_F(DepSyncerTest, WorkerRunsRequestedSyncs) {
  syncer_->Start();
  std::promise<DepSyncResult> done;
  syncer_->RequestSync("main", [&](DepSyncResult r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  DepSyncResult r = future.get();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.devices, 20000);
  syncer_->Stop();
}

// The gateway accepts requests a moment before it starts the worker: a sync asked for then runs
// once the worker starts (CI saw "the syncer is not running" from a freshly restarted gateway).
// After Stop the request is answered at once with "stopped".
TEST_F(DepSyncerTest, SyncRequestedBeforeStartRunsOnceStartedAndIsRefusedAfterStop) {
  std::promise<DepSyncResult> done;
  syncer_->RequestSync("main", [&](DepSyncResult r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  syncer_->Start();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  DepSyncResult r = future.get();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.devices, 20000);
  syncer_->Stop();

  std::promise<DepSyncResult> refused;
  syncer_->RequestSync("main", [&](DepSyncResult r2) { refused.set_value(std::move(r2)); });
  auto later = refused.get_future();
  ASSERT_EQ(later.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  DepSyncResult stopped = later.get();
  EXPECT_FALSE(stopped.ok);
  EXPECT_EQ(stopped.error_code, "stopped");
}

}  // namespace
}  // namespace mdmgw::dep

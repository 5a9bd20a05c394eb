// Profiles and assignment against dep-sim (a real process): definition at Apple, auto-assignment
// of the default profile after syncs, THROTTLED/FAILED waiting for the advised time (never a
// loop), manual assignment in chunks of 1000 with per-serial answers, removal, disown.
#include "dep/dep_assigner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "dep/dep_profile_service.h"
#include "dep/dep_syncer.h"
#include "tests/support/dep_sim_env.h"
#include "tests/support/fake_clock.h"

namespace mdmgw::dep {
namespace {

class DepAssignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(env_.port(), 0) << "dep-sim did not start";
    ASSERT_TRUE(env_.OpenGatewaySide(dir_.File("gw.db"), "CK_asg"));
    store_ = &env_.store();
    clients_ = std::make_unique<DepClients>(store_->dep(), env_.servers(), env_.http());
    assigner_ = std::make_unique<DepAssigner>(store_->dep(), *clients_, clock_);
    profiles_ = std::make_unique<DepProfileService>(store_->dep(), *clients_, *assigner_,
                                                    "https://mdm.example.com",
                                                    std::vector<std::string>{}, clock_);
    syncer_ = std::make_unique<DepSyncer>(store_->dep(), *clients_);
  }
  nlohmann::json Sim(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return env_.Sim(method, path, body);
  }
  int64_t SimStat(const std::string& key) { return Sim("GET", "/sim/stats").value(key, 0); }
  std::vector<std::string> TruthSerials() {
    std::set<std::string> truth = env_.Truth();
    return std::vector<std::string>(truth.begin(), truth.end());
  }
  std::map<std::string, std::string> SimAssignments() {
    std::map<std::string, std::string> out;
    nlohmann::json truth = Sim("GET", "/sim/truth");
    for (const auto& [serial, uuid] : truth["assignments"].items())
      out[serial] = uuid.get<std::string>();
    return out;
  }
  std::string Define(const std::string& name, nlohmann::json request) {
    auto r = profiles_->Define("main", name, request);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->record.profile_uuid : "";
  }

  testing::TempDir dir_;
  testing::TestCa ca_{dir_.path()};
  testing::FakeClock clock_{Clock::System().NowUnixSeconds()};
  testing::DepSimEnv env_{ca_, {"--devices", "3000"}};
  store::Store* store_ = nullptr;
  std::unique_ptr<DepClients> clients_;
  std::unique_ptr<DepAssigner> assigner_;
  std::unique_ptr<DepProfileService> profiles_;
  std::unique_ptr<DepSyncer> syncer_;
};

TEST_F(DepAssignerTest, DefaultProfileGoesToNewAndChangedDevicesAfterEachSync) {
  std::string uuid = Define("corp", {{"is_supervised", true}, {"default", true}});
  ASSERT_FALSE(uuid.empty());
  nlohmann::json defined = Sim("GET", "/sim/profiles")["profiles"][uuid];
  EXPECT_EQ(defined["url"], "https://mdm.example.com/enroll/dep/corp") << "the gateway's URL";
  EXPECT_EQ(defined["profile_name"], "corp");
  EXPECT_EQ(defined["is_supervised"], true);

  syncer_->SetAssigner(assigner_.get());
  DepSyncResult first = syncer_->SyncOnce("main");
  ASSERT_TRUE(first.ok) << first.error;
  ASSERT_TRUE(first.auto_assign.is_object()) << first.ToJson().dump();
  EXPECT_EQ(first.auto_assign["success"], 3000);
  EXPECT_EQ(first.auto_assign["calls"], 3) << "1000 serials per call";
  auto assigned = SimAssignments();
  EXPECT_EQ(assigned.size(), 3000u);
  EXPECT_TRUE(std::all_of(assigned.begin(), assigned.end(),
                          [&](const auto& kv) { return kv.second == uuid; }));
  EXPECT_EQ(store_->CountDepDevicesByState("main")->at("assigned"), 3000);

  // New devices get it; modified ones that already have it are left alone.
  Sim("POST", "/sim/churn", R"({"added":20,"modified":30})");
  int64_t before = SimStat("assign_serials");
  DepSyncResult second = syncer_->SyncOnce("main");
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.auto_assign["success"], 20);
  EXPECT_EQ(SimStat("assign_serials") - before, 20);
  EXPECT_EQ(SimAssignments().size(), 3020u);

  // Redefining the profile (Apple's are immutable) moves its devices to the new definition.
  auto redefined =
      profiles_->Define("main", "corp", {{"is_supervised", true}, {"department", "IT"}});
  ASSERT_TRUE(redefined.ok()) << redefined.status().ToString();
  ASSERT_TRUE(redefined->reassigned.has_value());
  EXPECT_EQ(redefined->reassigned->success, 3020);
  EXPECT_TRUE(redefined->is_default) << "still the default";
  uuid = redefined->record.profile_uuid;
  auto moved = SimAssignments();
  EXPECT_TRUE(
      std::all_of(moved.begin(), moved.end(), [&](const auto& kv) { return kv.second == uuid; }));
  ASSERT_TRUE(syncer_->SyncOnce("main").ok);  // Apple's modified events for the move

  // A removal the admin makes through the gateway is not undone by the next sync.
  std::vector<std::string> serials = TruthSerials();
  std::vector<std::string> removed(serials.begin(), serials.begin() + 5);
  auto r = assigner_->Remove("main", removed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->success, 5);
  before = SimStat("assign_serials");
  DepSyncResult third = syncer_->SyncOnce("main");
  ASSERT_TRUE(third.ok) << third.error;
  EXPECT_EQ(third.modified, 5) << "Apple reports the removals";
  EXPECT_EQ(SimStat("assign_serials"), before) << "removed devices are not reassigned";
  EXPECT_EQ(store_->CountDepDevicesByState("main")->at("unassigned"), 5);
  EXPECT_EQ(SimAssignments().size(), 3015u);
}

TEST_F(DepAssignerTest, ThrottledAndFailedSerialsWaitForTheAdvisedTime) {
  ASSERT_TRUE(syncer_->SyncOnce("main").ok);
  std::vector<std::string> serials = TruthSerials();
  // Assignment runs in serial order: both failures fall in the first call of 1000.
  Sim("POST", "/sim/config",
      nlohmann::json{{"assign_throttle", 10},
                     {"assign_retry_after", 600},
                     {"fail_serials", {serials[500], serials[501]}}}
          .dump());
  Define("corp", {{"default", true}});

  auto first = assigner_->AutoAssign("main");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->calls, 1) << "a THROTTLED answer ends the run";
  EXPECT_EQ(first->throttled, 10);
  EXPECT_EQ(first->failed, 2);
  EXPECT_EQ(first->success, 988);
  EXPECT_EQ(first->retry_after_seconds, 600);
  auto throttled = store_->ListDepDevices("main", "", 100, "throttled");
  ASSERT_EQ(throttled->size(), 10u);
  EXPECT_EQ(throttled->front().assign_retry_at, clock_.NowUnixSeconds() + 600);
  auto failed = store_->ListDepDevices("main", "", 100, "failed");
  ASSERT_EQ(failed->size(), 2u);
  EXPECT_EQ(failed->front().assign_retry_at,
            clock_.NowUnixSeconds() + DepAssigner::kDefaultRetrySeconds)
      << "no advice for FAILED: 24 h";

  // The next run sends only devices never tried; the throttled and failed ones wait.
  auto second = assigner_->AutoAssign("main");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->success, 2000);
  EXPECT_EQ(SimStat("assign_serials"), 3000);
  auto idle = assigner_->AutoAssign("main");
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->calls, 0) << "nothing due: no call to Apple";

  clock_.Advance(std::chrono::seconds(601));
  auto retried = assigner_->AutoAssign("main");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->success, 10) << "throttled ones after Apple's retry_after_seconds";
  EXPECT_EQ(retried->failed, 0);

  clock_.Advance(std::chrono::seconds(DepAssigner::kDefaultRetrySeconds));
  auto day_later = assigner_->AutoAssign("main");
  ASSERT_TRUE(day_later.ok());
  EXPECT_EQ(day_later->failed, 2) << "still failing at Apple";
  auto again = store_->ListDepDevices("main", "", 100, "failed");
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(again->front().assign_attempts, 2);
  EXPECT_EQ(again->front().assign_retry_at,
            clock_.NowUnixSeconds() + DepAssigner::kDefaultRetrySeconds);
  EXPECT_EQ(SimStat("assign_serials"), 3012);
}

TEST_F(DepAssignerTest, ManualAssignChunksReportsEachSerialAndDisownRemoves) {
  ASSERT_TRUE(syncer_->SyncOnce("main").ok);
  std::string uuid = Define("lab", {{"department", "Lab"}});
  std::vector<std::string> serials = TruthSerials();
  std::vector<std::string> request(serials.begin(), serials.begin() + 2500);
  request.push_back("NOSUCHSERIAL");
  int64_t calls_before = SimStat("assign_calls");
  auto r = assigner_->Assign("main", "lab", request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(SimStat("assign_calls") - calls_before, 3) << "2501 serials: 1000 + 1000 + 501";
  EXPECT_EQ(r->success, 2500);
  EXPECT_EQ(r->not_accessible, 1);
  EXPECT_EQ(r->devices["NOSUCHSERIAL"], "NOT_ACCESSIBLE");
  EXPECT_EQ(r->devices[serials[0]], "SUCCESS");
  EXPECT_EQ(r->profile_uuid, uuid);
  EXPECT_TRUE(assigner_->Assign("main", "nope", {serials[0]}).status().IsNotFound());
  EXPECT_EQ(assigner_->Assign("main", "lab", {}).status().reason(), "bad_request");

  auto remote = profiles_->Remote("main", "lab");
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ((*remote)["department"], "Lab");
  EXPECT_EQ((*remote)["profile_uuid"], uuid);

  auto lease = clients_->For("main");
  ASSERT_TRUE(lease.ok());
  auto details = lease->client->DeviceDetails({serials[0], "NOSUCHSERIAL"});
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  EXPECT_EQ((*details)[serials[0]]["profile_uuid"], uuid);
  EXPECT_EQ((*details)["NOSUCHSERIAL"]["response_status"], "NOT_ACCESSIBLE");

  auto disowned = assigner_->Disown("main", {serials[1]});
  ASSERT_TRUE(disowned.ok());
  EXPECT_EQ(disowned->success, 1);
  DepSyncResult after = syncer_->SyncOnce("main");
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.deleted, 1);
  EXPECT_EQ(*store_->CountDepDevices("main"), 2999);
}

TEST_F(DepAssignerTest, AppleRefusalsChangeNothing) {
  ASSERT_TRUE(syncer_->SyncOnce("main").ok);
  // Refused locally: nothing reaches Apple, nothing is stored.
  auto bad = profiles_->Define("main", "corp", {{"support_email_address", "nobody"}});
  EXPECT_EQ(bad.status().reason(), "profile_invalid");
  EXPECT_EQ(SimStat("define_profile"), 0);
  EXPECT_TRUE(store_->GetDepProfile("main", "corp").status().IsNotFound());
  EXPECT_EQ(profiles_->Define("main", "bad name", nlohmann::json::object()).status().reason(),
            "bad_name");
  // Terms not signed: the define fails with Apple's reason and nothing is stored.
  Sim("POST", "/sim/config", R"({"terms_not_signed":true,"expire_sessions":true})");
  auto terms = profiles_->Define("main", "corp", nlohmann::json::object());
  EXPECT_EQ(terms.status().reason(), "terms_not_signed");
  EXPECT_TRUE(store_->GetDepProfile("main", "corp").status().IsNotFound());
}

}  // namespace
}  // namespace mdmgw::dep

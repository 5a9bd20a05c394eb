// DepAssigner: puts DEP profiles on devices at Apple (POST /profile/devices) and keeps what Apple
// answered per serial. Calls carry at most 1000 serials. SUCCESS marks the device assigned;
// NOT_ACCESSIBLE is kept (retried only if Apple later reports the device changed); THROTTLED is
// retried after the time Apple advised (retry_after_seconds; without advice 24 hours), FAILED
// after 24 hours — never in a loop: a THROTTLED serial or a 429 ends the run, and the next run
// (after the next sync) picks up what is due.
//
// AutoAssign gives the server's default profile to every current device without one: devices
// that were added, or modified and left without a profile, and failed/throttled ones now due.
// Profiles made from an enrollment profile with pilot groups (see DepTargets) go to their
// groups' devices first; every other device gets the default profile. The syncer calls it after
// each successful sync.
//
// Thread-safety: thread-safe (per-server runs are serialised).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "dep/dep_clients.h"
#include "dep/dep_targets.h"
#include "store/dep_store.h"

namespace mdmgw::dep {

struct DepAssignOutcome {
  std::string server;
  std::string action;  // assign, remove, disown
  std::string profile, profile_uuid;
  std::map<std::string, std::string> devices;  // serial -> Apple's per-serial status
  int64_t success = 0, not_accessible = 0, failed = 0, throttled = 0;
  int64_t not_sent = 0;  // serials left untried after a THROTTLED answer or a failed call
  int64_t retry_after_seconds = 0;
  int calls = 0;
  bool ok = true;  // false when a call to Apple failed as a whole
  std::string error_code, error;
  // |with_devices|: the per-serial map (manual calls), else counts only (auto-assign summaries).
  nlohmann::json ToJson(bool with_devices) const;
};

class DepAssigner {
 public:
  static constexpr int64_t kDefaultRetrySeconds = 24 * 3600;
  // Serials an admin's request may name (each call to Apple takes 1000 of them).
  static constexpr size_t kMaxSerialsPerRequest = 50000;
  // too_many_serials above kMaxSerialsPerRequest (Assign, Remove and Disown check it; AssignUuid,
  // which the gateway's own moves use, does not).
  static Status CheckRequestSize(const std::vector<std::string>& serials);

  // |registry| (optional) gets mdmgw_dep_assignments_total{server,result}.
  DepAssigner(store::DepStore& store, DepClients& clients, Clock& clock = Clock::System(),
              metrics::Registry* registry = nullptr);

  // Pilot-group targeting for AutoAssign (null: every device gets the default profile).
  void SetTargets(DepTargets* targets) { targets_ = targets; }
  // Assigns profile |profile| (a gateway name for a profile defined through it) to |serials|.
  Result<DepAssignOutcome> Assign(const std::string& server, const std::string& profile,
                                  const std::vector<std::string>& serials);
  // Assigns an Apple profile UUID directly (define-time devices use this).
  Result<DepAssignOutcome> AssignUuid(const std::string& server, const std::string& profile,
                                      const std::string& profile_uuid,
                                      const std::vector<std::string>& serials);
  // The server's default profile to every device that should get it now (see above). Without a
  // default profile: an outcome with nothing sent.
  Result<DepAssignOutcome> AutoAssign(const std::string& server);
  // DELETE /profile/devices; removed devices are not auto-assigned again.
  Result<DepAssignOutcome> Remove(const std::string& server,
                                  const std::vector<std::string>& serials);
  // POST /devices/disown (irreversible at Apple).
  Result<DepAssignOutcome> Disown(const std::string& server,
                                  const std::vector<std::string>& serials);

 private:
  // One call to Apple for <= 1000 serials; records the answers. Returns false to stop the run.
  bool AssignChunk(DepClient& client, const std::string& profile_uuid,
                   const std::vector<std::string>& chunk, DepAssignOutcome* out);
  using SerialCall =
      std::function<Result<DepSerialResults>(DepClient&, const std::vector<std::string>&)>;
  // Remove / disown: |call| per chunk of 1000; SUCCESS serials recorded as |record_success_as|
  // ("" = not recorded).
  Result<DepAssignOutcome> RunSerialAction(const std::string& server, const std::string& action,
                                           const std::vector<std::string>& serials,
                                           const SerialCall& call,
                                           const std::string& record_success_as);
  void CountOutcome(const DepAssignOutcome& out);
  std::mutex& ServerMutex(const std::string& server);

  store::DepStore& store_;
  DepClients& clients_;
  Clock& clock_;
  DepTargets* targets_ = nullptr;
  metrics::Family<metrics::Counter>* assignments_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> server_mu_;  // GUARDED_BY(mu_)
};

}  // namespace mdmgw::dep

// PushService: "push these enrollments now". Looks up each enrollment's APNs token and
// PushMagic in the store, sends them through the ApnsClient pool, records what APNs says about
// stale tokens (410 marks the token invalid only when the stored TokenUpdate is older than APNs's
// timestamp), and answers with one result per id. Behind POST /api/v1/push and NanoMDM's
// /v1/push/{ids}.
//
// Thread-safety: Push may be called from any thread; |done| runs on the APNs client's thread (or
// the caller's, when nothing needs sending).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apns/apns_client.h"
#include "common/clock.h"
#include "store/enrollment_store.h"

namespace mdmgw::apns {

struct EnrollmentPushResult {
  std::string id;
  bool delivered = false;
  std::string apns_id;     // when APNs answered
  std::string error_code;  // unknown_enrollment, no_push_token, token_unregistered, an APNs
                           // reason (BadDeviceToken, ...), or transport/timeout/queue_full/...
  std::string message;
  PushOutcome outcome = PushOutcome::kDelivered;
};

class PushService {
 public:
  static constexpr size_t kMaxIdsPerCall = 50000;

  PushService(store::EnrollmentStore& enrollments, ApnsClient& client);

  // |done| receives results in the order of the (deduplicated) ids.
  void Push(std::vector<std::string> ids,
            std::function<void(std::vector<EnrollmentPushResult>)> done);

 private:
  store::EnrollmentStore& enrollments_;
  ApnsClient& client_;
};

}  // namespace mdmgw::apns

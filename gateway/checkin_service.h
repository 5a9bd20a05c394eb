// CheckInService: the device-facing chain behind PUT /mdm/checkin and PUT /mdm/connect —
//   identity (mTLS / Mdm-Signature, DeviceIdentityVerifier) → parse (bounded plist) →
//   binding (the certificate bound at Authenticate must be the one presented later) →
//   topic (must be the push certificate's) → record (Authenticate / TokenUpdate / CheckOut, one
//   transaction, before anything is forwarded) → route (Routing) → forward (UpstreamForwarder).
// Refusals: 401 no or untrusted identity, 400 bad body, 413 too large, 403 identity or topic
// mismatch, 503 + Retry-After when the store or the core is unusable. Every refusal has a JSON
// body {"error": {"code", "message"}}; nothing is recorded or forwarded for a refused request.
//
// Thread-safety: Handle* from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/plist_guard.h"
#include "common/secret_box.h"
#include "gateway/checkin_message.h"
#include "gateway/device_identity.h"
#include "gateway/routing.h"
#include "gateway/upstream_forwarder.h"
#include "net/response.h"
#include "store/enrollment_store.h"

namespace mdmgw::gateway {

class CheckInService {
 public:
  CheckInService(store::EnrollmentStore& enrollments, const SecretBox& secrets,
                 const DeviceIdentityVerifier& identities, Routing& routing,
                 UpstreamForwarder& forwarder, const Clock& clock, PlistLimits limits,
                 metrics::Registry* registry);

  // The push certificate's topic ("" = none uploaded: topics are not checked).
  void SetPushTopic(std::string topic);

  void HandleCheckIn(const net::Request& request, net::Respond respond);
  void HandleConnect(const net::Request& request, net::Respond respond);

 private:
  // Checks the presented identity against the device's binding (binding it when the device has
  // none). Error statuses map to the HTTP answer.
  Status CheckBinding(const std::string& device_id, const DeviceIdentity& identity, bool rebind);
  std::string PushTopic() const;
  void Refuse(const Status& status, const char* route, net::Respond& respond);

  store::EnrollmentStore& enrollments_;
  const SecretBox& secrets_;
  const DeviceIdentityVerifier& identities_;
  Routing& routing_;
  UpstreamForwarder& forwarder_;
  const Clock& clock_;
  PlistLimits limits_;
  // Bindings read recently (device id → cert SHA-256 and when read): a match within 60 s skips the
  // store read. A mismatch always re-reads the store (another instance may have re-bound).
  struct Bound {
    std::string sha256;
    int64_t at = 0;
  };
  std::mutex bound_mu_;
  std::unordered_map<std::string, Bound> bound_;  // GUARDED_BY(bound_mu_)
  void RememberBinding(const std::string& device_id, const std::string& sha256);
  mutable std::mutex topic_mu_;
  std::string push_topic_;
  std::unique_ptr<metrics::Registry> own_registry_;
  metrics::Family<metrics::Counter>* messages_ = nullptr;
  metrics::Family<metrics::Counter>* refused_ = nullptr;
};

}  // namespace mdmgw::gateway

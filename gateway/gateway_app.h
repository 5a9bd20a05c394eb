// gateway: the composition root. GatewayApp assembles every part from one GatewayConfig: data dir,
// master key, TLS material, store, metrics, API keys, router with all routes, and the server.
// main.cc (the executable) only parses the command line and calls this, so tests start the same
// assembly in-process.
//
// Thread-safety: Create/Start/Shutdown from one controlling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "apns/apns_client.h"
#include "apns/push_cert_service.h"
#include "apns/push_service.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/secret_box.h"
#include "configurator/enrollment_links.h"
#include "configurator/enrollment_profile_service.h"
#include "configurator/machine_info.h"
#include "configurator/profile_signer.h"
#include "configurator/setup_assistant_enrollment.h"
#include "dep/dep_assigner.h"
#include "dep/dep_clients.h"
#include "dep/dep_profile_service.h"
#include "dep/dep_server_service.h"
#include "dep/dep_syncer.h"
#include "gateway/api_keys.h"
#include "gateway/auth_failure_limiter.h"
#include "gateway/blocking_work.h"
#include "gateway/checkin_service.h"
#include "gateway/device_identity.h"
#include "gateway/metrics.h"
#include "gateway/router.h"
#include "gateway/routing.h"
#include "gateway/stale_device_cleanup.h"
#include "gateway/upstream_forwarder.h"
#include "net/server.h"
#include "store/change_feed.h"
#include "store/lease_keeper.h"
#include "store/store.h"

namespace mdmgw::gateway {

// Creates the data dir (mode 0700) when the configuration needs it (SQLite under it, generated TLS
// files, the key file) and returns its path.
Status EnsureDataDir(const GatewayConfig& config);

// Opens the configured store (migrations applied), creating the data dir for the default SQLite
// file.
Result<std::unique_ptr<store::Store>> OpenConfiguredStore(const GatewayConfig& config);

class GatewayApp {
 public:
  using GetEnv = std::function<const char*(const char*)>;

  // Prepares everything short of listening. Logs what it created and where.
  static Result<std::unique_ptr<GatewayApp>> Create(const GatewayConfig& config,
                                                    const GetEnv& getenv_fn);
  ~GatewayApp();

  Status Start();
  uint16_t port() const { return server_->port(); }
  void Shutdown();
  // Serves until SIGINT/SIGTERM, then shuts down gracefully.
  void RunUntilSignal();

  store::Store& store() { return *store_; }
  ApiKeys& api_keys() { return *api_keys_; }
  apns::PushCertService& push_certs() { return *push_certs_; }
  apns::ApnsClient& apns_client() { return *apns_client_; }
  Router& router() { return *router_; }
  Routing& routing() { return *routing_; }
  const std::string& tls_cert_file() const { return tls_cert_file_; }

 private:
  GatewayApp() = default;

  GatewayConfig config_;
  std::string tls_cert_file_;
  std::unique_ptr<SecretBox> secret_box_;
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
  // Before every user of a lease (the syncer, housekeeping), which drop theirs before it goes.
  std::unique_ptr<store::LeaseKeeper> leases_;
  std::unique_ptr<store::ChangeFeed> changes_;
  std::unique_ptr<GatewayMetrics> metrics_;
  std::unique_ptr<ApiKeys> api_keys_;
  std::unique_ptr<AuthFailureLimiter> auth_failures_;
  std::unique_ptr<apns::PushCertService> push_certs_;
  // Declared before the server: pushes answer requests, so the client stops first (see
  // ~GatewayApp) while the server still exists (net::Respond's contract).
  std::unique_ptr<apns::ApnsClient> apns_client_;
  std::unique_ptr<apns::PushService> push_service_;
  std::unique_ptr<net::H1Client> dep_http_;  // to Apple's DEP API (or dep-sim)
  std::unique_ptr<dep::DepServerService> dep_servers_;
  std::unique_ptr<dep::DepClients> dep_clients_;
  std::unique_ptr<dep::DepAssigner> dep_assigner_;
  std::unique_ptr<dep::DepProfileService> dep_profiles_;
  std::unique_ptr<dep::DepSyncer> dep_syncer_;   // answers sync requests: stopped before the server
  std::unique_ptr<BlockingWork> blocking_work_;  // admin calls that wait on Apple: likewise
  std::unique_ptr<configurator::ProfileSigner> profile_signer_;
  std::unique_ptr<configurator::EnrollmentCa> enrollment_ca_;
  std::unique_ptr<configurator::EnrollmentProfileService> enrollment_profiles_;
  std::unique_ptr<configurator::EnrollmentLinks> enrollment_links_;
  std::unique_ptr<configurator::MachineInfoVerifier> machine_info_verifier_;
  std::unique_ptr<configurator::SetupAssistantEnrollment> setup_assistant_;
  std::unique_ptr<dep::DepTargets> pilot_targets_;
  std::unique_ptr<DeviceIdentityVerifier> device_identities_;
  std::unique_ptr<Routing> routing_;
  // Answers check-ins asynchronously: stopped (StopBackground) before the server is destroyed.
  std::unique_ptr<UpstreamForwarder> forwarder_;
  std::unique_ptr<CheckInService> checkins_;
  std::unique_ptr<StaleDeviceCleanup> stale_cleanup_;
  // Hourly housekeeping (certificate expiry warnings and metric).
  std::thread housekeeping_;
  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  void StopBackground();
  // The housekeeping lease: true while this instance holds it (taking it when free).
  bool TakeHousekeeping();
  bool IsHousekeeper();
  std::mutex housekeeper_mu_;
  std::shared_ptr<store::HeldLease> housekeeping_lease_;  // GUARDED_BY(housekeeper_mu_)
  std::unique_ptr<Router> router_;
  std::unique_ptr<net::Server> server_;
};

}  // namespace mdmgw::gateway

// DepClient: Apple's Device Assignment API for one DEP server (PROTOCOLS.md §2 "Using the
// session"). Gets an auth session with an OAuth1-signed GET /session, sends it as
// X-ADM-Auth-Session on every call, keeps whatever newer session a response hands back, and on
// 401 (or 403 FORBIDDEN) re-authenticates once and replays the request. Errors come back as a
// Status whose reason names the DEP error kind (dep/dep_error): cursor_exhausted, cursor_reset,
// cursor_required, terms_not_signed, access_denied, session_rejected, throttled (retry_after()
// says how long Apple asked for), server_error, bad_request, or unavailable (transport).
//
// Thread-safety: one DepClient per server; calls are serialised internally.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "dep/oauth1.h"
#include "net/h1_client.h"

namespace mdmgw::dep {

struct DepAccount {
  std::string server_name;
  std::string server_uuid;
  std::string org_name;
  std::string admin_id;
  int fetch_limit_default = 100;  // urls[] limits of /server/devices (Apple's documented default)
  int fetch_limit_maximum = 1000;
  nlohmann::json raw;
};

// Per-serial answers of assign / remove / disown / define-with-devices: SUCCESS,
// NOT_ACCESSIBLE, FAILED, THROTTLED (assign only), as Apple spelled them.
struct DepSerialResults {
  std::string profile_uuid;
  std::map<std::string, std::string> devices;
  int64_t retry_after_seconds = 0;  // assign: how long Apple asks THROTTLED serials to wait
};

class DepClient {
 public:
  static constexpr int kProtocolVersion = 7;
  // Serials per assign/remove/details/disown call. Apple's cap is unconfirmed; 1000 is the usual
  // one (PROTOCOLS.md §2), so callers chunk at this and the client refuses more.
  static constexpr size_t kMaxSerialsPerCall = 1000;

  DepClient(net::H1Client& http, std::string base_url, OAuth1Credentials credentials,
            Clock& clock = Clock::System());

  Result<DepAccount> Account();
  // Any call: |method| |path| with an optional JSON body; the parsed JSON answer.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const nlohmann::json* body = nullptr);

  // POST /devices: Apple's record of each serial (with response_status), keyed by serial.
  Result<nlohmann::json> DeviceDetails(const std::vector<std::string>& serials);
  // POST /profile: the new profile's UUID (and per-serial results when |profile| has devices).
  Result<DepSerialResults> DefineProfile(const nlohmann::json& profile);
  // GET /profile?profile_uuid=
  Result<nlohmann::json> GetProfile(const std::string& profile_uuid);
  // POST /profile/devices (PUT where a server refuses POST with 405, as older ones did).
  Result<DepSerialResults> AssignProfile(const std::string& profile_uuid,
                                         const std::vector<std::string>& serials);
  // DELETE /profile/devices
  Result<DepSerialResults> RemoveProfile(const std::vector<std::string>& serials);
  // POST /devices/disown (deprecated at Apple and irreversible: the device leaves the org).
  Result<DepSerialResults> Disown(const std::vector<std::string>& serials);

  // Each exchange with Apple (connect included) gets this long; then it fails with Timeout.
  // Default 30 s.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  int64_t retry_after_seconds() const { return retry_after_seconds_; }
  // The HTTP status of the last call's final answer (0 when none arrived).
  int last_http_status() const { return last_http_status_; }
  int sessions_started() const { return sessions_started_; }

 private:
  Status StartSession();
  Result<DepSerialResults> SerialCall(const std::string& method, const std::string& path,
                                      const std::vector<std::string>& serials,
                                      const std::string& profile_uuid);
  Result<net::ClientResponse> Send(const std::string& method, const std::string& path,
                                   const std::string& body);

  net::H1Client& http_;
  std::string base_url_;  // no trailing slash
  OAuth1Credentials credentials_;
  Clock& clock_;
  std::chrono::milliseconds timeout_{30000};
  std::mutex mu_;
  std::string session_;  // GUARDED_BY(mu_)
  // Read after a call by the thread that made it; atomic because the syncer and the assigner
  // share one client per server.
  std::atomic<int64_t> retry_after_seconds_{0};
  std::atomic<int> last_http_status_{0};
  std::atomic<int> sessions_started_{0};
};

}  // namespace mdmgw::dep

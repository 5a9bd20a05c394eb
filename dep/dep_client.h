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

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

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

class DepClient {
 public:
  static constexpr int kProtocolVersion = 7;

  DepClient(net::H1Client& http, std::string base_url, OAuth1Credentials credentials,
            Clock& clock = Clock::System());

  Result<DepAccount> Account();
  // Any call: |method| |path| with an optional JSON body; the parsed JSON answer.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const nlohmann::json* body = nullptr);

  int64_t retry_after_seconds() const { return retry_after_seconds_; }
  int sessions_started() const { return sessions_started_; }

 private:
  Status StartSession();
  Result<net::ClientResponse> Send(const std::string& method, const std::string& path,
                                   const std::string& body);

  net::H1Client& http_;
  std::string base_url_;  // no trailing slash
  OAuth1Credentials credentials_;
  Clock& clock_;
  std::mutex mu_;
  std::string session_;  // GUARDED_BY(mu_)
  int64_t retry_after_seconds_ = 0;
  int sessions_started_ = 0;
};

}  // namespace mdmgw::dep

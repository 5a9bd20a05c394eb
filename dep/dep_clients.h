// DepClients: one DepClient per DEP server, shared by the syncer, the assigner and the profile
// admin, so a server has one Apple auth session rather than one per caller. A client is made
// again when the server's token (consumer key) or base URL changes. Page size comes from the
// server's /account limits (urls[].limit of /server/devices), asked once per client.
//
// Thread-safety: thread-safe; DepClient serialises its own calls.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "dep/dep_client.h"
#include "dep/dep_server_service.h"
#include "store/dep_store.h"

namespace mdmgw::dep {

struct DepClientLease {
  std::shared_ptr<DepClient> client;
  int page_limit = 1000;
};

class DepClients {
 public:
  DepClients(store::DepStore& store, DepServerService& servers, net::H1Client& http,
             Clock& clock = Clock::System());

  // The per-exchange timeout of the clients made from now on (DepClient::set_timeout).
  void set_request_timeout(std::chrono::milliseconds timeout) {
    std::lock_guard lock(mu_);
    timeout_ = timeout;
  }

  // NotFound (no server) / FailedPrecondition "no_token" (no token uploaded yet).
  Result<DepClientLease> For(const std::string& server);

 private:
  struct Entry {
    std::string consumer_key;
    std::string base_url;
    std::shared_ptr<DepClient> client;
    int page_limit = 1000;
  };
  store::DepStore& store_;
  DepServerService& servers_;
  net::H1Client& http_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;      // GUARDED_BY(mu_)
  std::chrono::milliseconds timeout_{30000};  // GUARDED_BY(mu_)
};

}  // namespace mdmgw::dep

// DepSimEnv: what a DEP test needs around dep-sim — the simulator process, an HTTP client that
// trusts it, its control API (/sim/*), and optionally the gateway's side: a SQLite store and a
// DEP server "main" pointed at the simulator with a token uploaded for its certificate.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/secret_box.h"
#include "dep/dep_server_service.h"
#include "fixtures/pki/test_pki.h"
#include "net/h1_client.h"
#include "store/store.h"
#include "tests/support/child_process.h"

namespace mdmgw::testing {

class DepSimEnv {
 public:
  // Starts dep-sim with |args| (e.g. {"--devices", "3000"}); port() is 0 when it did not start.
  DepSimEnv(TestCa& ca, const std::vector<std::string>& args);

  uint16_t port() const { return sim_ ? sim_->port : 0; }
  const std::string& base_url() const { return base_url_; }
  net::H1Client& http() { return *http_; }
  // A control or API call to the simulator; the JSON answer (null when it failed).
  nlohmann::json Sim(const std::string& method, const std::string& path,
                     const std::string& body = "");
  // The simulator's current serials.
  std::set<std::string> Truth();

  // The gateway's side: a store in |db_file| and server "main" with a token (consumer key
  // |consumer_key|) made for its exchange certificate. Returns false (with a test failure) when
  // a step fails.
  bool OpenGatewaySide(const std::string& db_file, const std::string& consumer_key);
  store::Store& store() { return *store_; }
  dep::DepServerService& servers() { return *servers_; }
  // Serials stored for "main" (current devices).
  std::set<std::string> Stored();

 private:
  std::unique_ptr<DepSimProcess> sim_;
  std::string base_url_;
  std::unique_ptr<net::H1Client> http_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SecretBox> box_;
  std::unique_ptr<dep::DepServerService> servers_;
};

}  // namespace mdmgw::testing

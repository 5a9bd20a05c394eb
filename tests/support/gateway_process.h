// The real mdm-gateway binary run by an end-to-end test: `serve` on a free loopback port with the
// test's flags, waited on until /healthz answers, killed or stopped on demand; and an admin key
// made with the CLI the way an operator makes one.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::testing {

// `<binary> apikey create --name admin --data-dir D [--store URL]`: the key (its last line of
// output), or "" when the command failed.
std::string CreateAdminKeyWithCli(const std::string& binary, const std::string& data_dir,
                                  const std::string& store_url = "");

// Where an end-to-end test on |backend| ("sqlite" or "postgres") keeps its data: "" for SQLite in
// the data dir, else a fresh database named after |name| on the shared test PostgreSQL; nullopt
// when that server is not running (SharedPostgres().error() says why).
std::optional<std::string> StoreUrlForBackend(const std::string& backend, const std::string& name);

// One device checking in with the device-sim binary at |device_sim|: Authenticate then TokenUpdate
// over mTLS to https://localhost:<port>, trusting |ca_file|. True when the TokenUpdate was answered
// 200 (the gateway has recorded it).
bool DeviceSimTokenUpdateAcknowledged(const std::string& device_sim, uint16_t port,
                                      const std::string& cert_file, const std::string& key_file,
                                      const std::string& topic, const std::string& ca_file,
                                      const std::string& udid, const std::string& serial);

class GatewayProcess {
 public:
  // Runs `<binary> serve --listen 127.0.0.1:<port> <flags...>`, stderr to |log_file|, and waits up
  // to |wait| for /healthz; started() tells whether it answered. |port| 0 takes a free one; a
  // restart passes the previous port so that clients keep their address.
  GatewayProcess(const std::string& binary, const std::vector<std::string>& flags,
                 const std::string& log_file,
                 std::chrono::milliseconds wait = std::chrono::seconds(15), uint16_t port = 0);
  ~GatewayProcess();

  bool started() const { return started_; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // SIGKILL, as a crash or a lost machine would end it; waits for the process to be gone.
  void Kill();
  // SIGTERM and a graceful stop.
  void Stop();

  // An admin API call with |key| over a new HTTP/2 connection (status 0 when it failed).
  H2TestClient::Stream Call(const std::string& key, const std::string& method,
                            const std::string& path, const std::string& body = "",
                            std::chrono::milliseconds timeout = std::chrono::seconds(10),
                            const std::string& content_type = "application/json") const;

 private:
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  bool started_ = false;
};

}  // namespace mdmgw::testing

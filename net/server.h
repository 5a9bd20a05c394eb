// Server: the TLS listener for devices and admins. Accepts connections, completes the TLS
// handshake, and serves HTTP/2 or HTTP/1.1 (by ALPN) into one RequestHandler.
//
// Lifecycle: Create() → Start() (binds, starts I/O threads) → Shutdown(grace) (stops accepting,
// sends GOAWAY / Connection: close, lets in-flight requests finish for up to |grace|, joins
// threads). Thread-safety: Start/Shutdown/WaitForSignal from one controlling thread; the rest is
// internal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/result.h"
#include "net/response.h"

namespace mdmgw::net {

struct ServerLimits {
  int max_connections = 10000;
  uint64_t max_header_bytes = 16 << 10;
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_max_concurrent_streams = 0;  // see H2Limits (0 = start at the maximum)
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds read_timeout{30000};
  // A complete request gets this long for its handler's answer (admin calls such as a DEP sync with
  // ?wait=1 run for minutes). read_timeout bounds the peer, this bounds the gateway's own work.
  std::chrono::milliseconds handler_timeout{600000};
  std::chrono::milliseconds handshake_timeout{10000};
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;  // 0 = any free port (tests); see Server::port()
  int threads = 0;       // 0 = hardware concurrency
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;  // devices CA; empty = client certificates captured, not verified
  // Fail the TLS handshake when the client sends no certificate (APNs does; simulators).
  bool require_client_certificate = false;
  ServerLimits limits;
  metrics::Gauge* open_connections = nullptr;       // optional
  metrics::Counter* refused_connections = nullptr;  // optional: over max_connections
};

class Server {
 public:
  // Loads TLS material and prepares; nothing is bound yet. |handler| must outlive the server.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                RequestHandler& handler);
  ~Server();

  // Binds and starts serving on the I/O threads.
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  size_t open_connections() const;

  // Graceful stop: no new connections; HTTP/2 peers get GOAWAY, HTTP/1.1 peers Connection: close;
  // in-flight requests complete; after |grace| the rest are cut. Returns when threads have joined.
  void Shutdown(std::chrono::milliseconds grace);

  // Blocks until SIGINT or SIGTERM, then calls Shutdown(grace).
  void WaitForSignalThenShutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdmgw::net

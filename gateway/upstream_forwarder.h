// UpstreamForwarder: sends a device's request to its core MDM and hands the core's answer back
// (DESIGN §5). The body goes byte for byte; the device certificate goes in the header the core is
// configured for (RFC 9440 `Client-Cert: :<base64 DER>:` or nginx-style URL-escaped PEM);
// Mdm-Signature, Content-Type and User-Agent pass through; X-Forwarded-For/-Proto and a request
// id are added. Nothing else from the device is copied (so a Client-Cert a device sends never
// reaches the core). The core's status, Content-Type, Retry-After and body come back unchanged.
//
// A core that is down, slow past the timeout, or answering 5xx gives the device 503 with
// Retry-After (it retries); a per-core circuit breaker refuses at once while the core is dead.
// Keep-alive connections are pooled per core (net::H1Client).
//
// Thread-safety: Forward from any thread; |respond| runs on a client I/O thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "gateway/circuit_breaker.h"
#include "gateway/device_identity.h"
#include "gateway/routing.h"
#include "net/h1_client.h"
#include "net/response.h"

namespace mdmgw::gateway {

struct UpstreamForwarderOptions {
  std::string cert_header_style = "rfc9440";  // or "escaped-pem"
  std::string cert_header;                    // "" = by style
  std::chrono::milliseconds timeout{15000};
  int retry_after_seconds = 30;
  int connections_per_core = 64;
  int breaker_failures = 5;  // consecutive failures that open a core's breaker
  std::chrono::milliseconds breaker_open_for{10000};
  std::string ca_file;  // extra CA for https cores
  int threads = 2;
};

// The header value for |der| in |style| (exposed for tests and the stub's parser check).
std::string CertHeaderValue(const std::string& style, const std::string& der);

class UpstreamForwarder {
 public:
  static Result<std::unique_ptr<UpstreamForwarder>> Create(const UpstreamForwarderOptions& options,
                                                           const Clock& clock,
                                                           metrics::Registry* registry);
  ~UpstreamForwarder();

  // Forwards |request| (its body and the headers named above) to |url| of |target|.
  void Forward(const UpstreamTarget& target, const std::string& url, const net::Request& request,
               const DeviceIdentity& identity, const std::string& request_id, net::Respond respond);

  // The device-facing 503 (Retry-After set).
  net::Response Unavailable(std::string_view why) const;
  CircuitBreaker::State BreakerState(const std::string& upstream);
  // Stops the client (pending forwards answer 503) — before the server goes away.
  void Stop();

 private:
  struct PerCore {
    std::unique_ptr<CircuitBreaker> breaker;
    metrics::Counter* ok = nullptr;
    metrics::Counter* upstream_5xx = nullptr;
    metrics::Counter* failed = nullptr;
    metrics::Counter* refused = nullptr;
    metrics::Histogram* latency = nullptr;
    metrics::Gauge* open = nullptr;
  };
  UpstreamForwarder(const UpstreamForwarderOptions& options, const Clock& clock,
                    metrics::Registry* registry);
  PerCore& Core(const std::string& name);

  UpstreamForwarderOptions options_;
  std::string header_name_;
  const Clock& clock_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* latency_ = nullptr;
  metrics::Family<metrics::Gauge>* breaker_open_ = nullptr;
  std::mutex mu_;
  std::map<std::string, PerCore> cores_;
  std::unique_ptr<metrics::Registry> own_registry_;  // when none is given (tests)
  std::unique_ptr<net::H1Client> http_;
};

}  // namespace mdmgw::gateway

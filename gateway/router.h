// Router: maps method + path to a handler, with {name} path parameters (a parameter may carry a
// literal suffix: "{profile}.mobileconfig"). Implements net::RequestHandler, so it is what the
// server calls. Around every handler it enforces admin authentication (every /api/v1/* path,
// matched or not, needs a valid key first, so unknown routes cannot be probed), records metrics
// (count by route pattern/method/status, latency), and answers 404/405 with JSON errors.
// With SetAuditLog, every admin request that may change something (any method but GET/HEAD)
// and carried a valid key is written to the audit log once answered: who, what, when, outcome.
// Read-only keys are refused (403) anything but GET/HEAD. With SetAuthFailureLimiter, addresses
// that keep presenting bad keys are refused with 429 for a while.
//
// Thread-safety: routes are added before the server starts; afterwards read-only.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/api_keys.h"
#include "gateway/auth_failure_limiter.h"
#include "gateway/metrics.h"
#include "net/response.h"
#include "store/audit_store.h"

namespace mdmgw::gateway {

// A route handler: the request (owned by the router's caller until respond is called) and the
// one-shot respond callback.
using RouteHandler = std::function<void(const net::Request&, net::Respond)>;

struct RouteOptions {
  uint64_t max_body_bytes = 0;  // 0 = the server default
  bool admin = false;           // requires an admin API key (implied for /api/v1/*)
};

class Router final : public net::RequestHandler {
 public:
  // |api_keys| may be null only when no admin route is added (tests).
  Router(uint64_t default_max_body_bytes, GatewayMetrics& metrics, ApiKeys* api_keys);

  // Both optional; set before the server starts. Not owned.
  void SetAuditLog(store::AuditStore* audit) { audit_ = audit; }
  void SetAuthFailureLimiter(AuthFailureLimiter* limiter) { limiter_ = limiter; }

  // |pattern| is a path with {name} segments, e.g. "/api/v1/dep/servers/{name}/sync".
  void Add(std::string method, std::string pattern, RouteHandler handler,
           RouteOptions options = {});

  // net::RequestHandler
  uint64_t MaxBodyBytes(const net::Request& headers_only) const override;
  void Handle(std::unique_ptr<net::Request> request, net::Respond respond) override;

 private:
  struct Segment {
    std::string literal;  // when not a parameter
    std::string param;    // parameter name, "" for a literal segment
    std::string suffix;   // literal text after the parameter within the segment
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    RouteHandler handler;
    RouteOptions options;
    // Metric children resolved once, so answering costs two atomic adds and no label lookups.
    metrics::Histogram* latency = nullptr;
    mutable std::array<std::atomic<metrics::Counter*>, 600>
        by_status{};  // filled on first use per status
  };
  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::string allowed;  // methods for a path that matched with another method
  };

  Match Find(std::string_view method, std::string_view path) const;
  static bool MatchRoute(const Route& route, std::string_view path,
                         std::vector<std::pair<std::string, std::string>>* params);
  std::unique_ptr<Route> NewRoute(std::string method, std::string pattern);
  void Record(const Route& route, int status, std::chrono::steady_clock::time_point start);
  void Audit(const net::Request& request, const store::ApiKeyRecord& key, std::string_view route,
             const net::Response& response);

  uint64_t default_max_body_bytes_;
  GatewayMetrics& metrics_;
  ApiKeys* api_keys_;
  store::AuditStore* audit_ = nullptr;
  AuthFailureLimiter* limiter_ = nullptr;
  std::vector<std::unique_ptr<Route>> routes_;
  std::unique_ptr<Route> unmatched_;  // metrics for requests that matched no route
};

}  // namespace mdmgw::gateway

#include "gateway/handlers/health.h"

namespace mdmgw::gateway {

void AddHealthRoutes(Router& router, store::Store& store, metrics::Registry& registry,
                     ReadinessDetail detail) {
  // Load balancers poll this often: a constant body, no JSON rendering.
  router.Add("GET", "/healthz", [](const net::Request&, net::Respond respond) {
    static const std::string kBody = "{\"status\":\"ok\"}\n";
    respond(net::Response::Text(200, kBody, "application/json"));
  });
  router.Add("GET", "/readyz", [&store, detail](const net::Request&, net::Respond respond) {
    Status s = store.Ping();
    nlohmann::json body = {{"status", s.ok() ? "ready" : "not_ready"},
                           {"checks", {{"store", s.ok() ? "ok" : s.message()}}}};
    if (detail && s.ok()) body["checks"].update(detail());
    respond(net::Response::Json(s.ok() ? 200 : 503, body));
  });
  router.Add("GET", "/metrics", [&registry](const net::Request&, net::Respond respond) {
    respond(
        net::Response::Text(200, registry.Render(), "text/plain; version=0.0.4; charset=utf-8"));
  });
}

}  // namespace mdmgw::gateway

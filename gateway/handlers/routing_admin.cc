#include "gateway/handlers/routing_admin.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {

void AddRoutingAdminRoutes(Router& router, Routing& routing, StaleDeviceCleanup& cleanup) {
  router.Add("GET", "/api/v1/routing", [&routing](const net::Request&, net::Respond respond) {
    respond(net::Response::Json(200, routing.Get()));
  });
  RouteOptions big;
  big.max_body_bytes = 16 << 20;  // up to 100,000 device overrides
  router.Add(
      "PUT", "/api/v1/routing",
      [&routing](const net::Request& request, net::Respond respond) {
        auto doc = nlohmann::json::parse(request.body, nullptr, false);
        if (doc.is_discarded()) {
          return respond(
              ErrorResponse(Status::InvalidArgument("the body is not JSON", "bad_request")));
        }
        Status s = routing.Put(doc, Clock::System().NowUnixSeconds());
        if (!s.ok()) return respond(ErrorResponse(s));
        nlohmann::json active = routing.Get();
        log::Info("routing changed", {{"groups", active["groups"].size()},
                                      {"devices", active["devices"].size()},
                                      {"default", active["default"]}});
        respond(net::Response::Json(200, active));
      },
      big);
  router.Add("POST", "/api/v1/devices/cleanup",
             [&cleanup](const net::Request& request, net::Respond respond) {
               auto d = request.QueryParam("dry_run");
               bool dry_run = d && (*d == "1" || *d == "true");
               auto report = cleanup.Run(dry_run);
               if (!report.ok()) return respond(ErrorResponse(report.status()));
               respond(net::Response::Json(200, *report));
             });
}

}  // namespace mdmgw::gateway

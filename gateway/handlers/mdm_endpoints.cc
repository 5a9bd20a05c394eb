#include "gateway/handlers/mdm_endpoints.h"

namespace mdmgw::gateway {

void AddMdmEndpoints(Router& router, CheckInService& service, uint64_t max_body_bytes) {
  RouteOptions options;
  options.max_body_bytes = max_body_bytes;
  router.Add(
      "PUT", "/mdm/checkin",
      [&service](const net::Request& request, net::Respond respond) {
        service.HandleCheckIn(request, std::move(respond));
      },
      options);
  router.Add(
      "PUT", "/mdm/connect",
      [&service](const net::Request& request, net::Respond respond) {
        service.HandleConnect(request, std::move(respond));
      },
      options);
}

}  // namespace mdmgw::gateway

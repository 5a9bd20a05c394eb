#include "gateway/handlers/enrollment_endpoints.h"

namespace mdmgw::gateway {

void AddEnrollmentEndpoints(Router& router,
                            configurator::SetupAssistantEnrollment& setup_assistant) {
  RouteOptions machine_info;
  machine_info.max_body_bytes = 64 << 10;  // a signed MachineInfo is a few KB
  router.Add(
      "POST", "/enroll/dep/{profile}",
      [&setup_assistant](const net::Request& request, net::Respond respond) {
        std::string profile =
            net::PercentDecode(request.PathParam("profile").value_or(""), false).value_or("");
        configurator::DeviceAnswer a =
            setup_assistant.Enroll(profile, request.body, request.remote_address);
        respond(net::Response::Text(a.status, std::move(a.body), a.content_type));
      },
      machine_info);
}

}  // namespace mdmgw::gateway

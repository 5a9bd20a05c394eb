#include "gateway/handlers/enrollment_endpoints.h"

namespace mdmgw::gateway {

namespace {

std::string Param(const net::Request& r, std::string_view name) { return r.DecodedPathParam(name); }

void Answer(const net::Respond& respond, configurator::DeviceAnswer a) {
  net::Response r = net::Response::Text(a.status, std::move(a.body), a.content_type);
  if (a.status == 200)
    r.headers.Add("content-disposition", "attachment; filename=\"enroll.mobileconfig\"");
  respond(std::move(r));
}

}  // namespace

void AddEnrollmentEndpoints(Router& router, configurator::SetupAssistantEnrollment& setup_assistant,
                            configurator::EnrollmentLinks& links) {
  router.Add("GET", "/enroll/configurator/{profile}.mobileconfig",
             [&links](const net::Request& request, net::Respond respond) {
               Answer(respond, links.Redeem("usb-direct", Param(request, "profile"),
                                            request.QueryParam("token").value_or(""),
                                            request.remote_address));
             });
  router.Add(
      "GET", "/enroll/ota/{profile}", [&links](const net::Request& request, net::Respond respond) {
        Answer(respond,
               links.Redeem("ota-invitation", Param(request, "profile"),
                            request.QueryParam("invite").value_or(""), request.remote_address));
      });
  router.Add(
      "GET", "/enroll/dem/{manager}", [&links](const net::Request& request, net::Respond respond) {
        Answer(respond,
               links.Redeem("dem", Param(request, "manager"),
                            request.QueryParam("token").value_or(""), request.remote_address));
      });
  RouteOptions machine_info;
  machine_info.max_body_bytes = 64 << 10;  // a signed MachineInfo is a few KB
  router.Add(
      "POST", "/enroll/dep/{profile}",
      [&setup_assistant](const net::Request& request, net::Respond respond) {
        std::string profile = request.DecodedPathParam("profile");
        configurator::DeviceAnswer a =
            setup_assistant.Enroll(profile, request.body, request.remote_address);
        respond(net::Response::Text(a.status, std::move(a.body), a.content_type));
      },
      machine_info);
}

}  // namespace mdmgw::gateway

#include "gateway/handlers/report_admin.h"

#include <ctime>

#include "gateway/http_errors.h"

namespace mdmgw::gateway {

void AddReportRoutes(Router& router, store::ReportStore& reports) {
  router.Add(
      "GET", "/api/v1/reports/incomplete-enrollments",
      [&reports](const net::Request& request, net::Respond respond) {
        int hours = 24;
        if (auto h = request.QueryParam("hours")) {
          char* end = nullptr;
          long v = std::strtol(h->c_str(), &end, 10);
          if (h->empty() || *end != '\0' || v < 0 || v > 24 * 365)
            return respond(
                ErrorResponse(Status::InvalidArgument("hours must be 0 to 8760", "bad_request")));
          hours = static_cast<int>(v);
        }
        int64_t cutoff = static_cast<int64_t>(std::time(nullptr)) - int64_t{hours} * 3600;
        auto stalled = reports.ListStalledEnrollments(cutoff, 5000);
        if (!stalled.ok()) return respond(ErrorResponse(stalled.status()));
        auto unenrolled = reports.ListUnenrolledDepDevices(cutoff, 5000);
        if (!unenrolled.ok()) return respond(ErrorResponse(unenrolled.status()));
        auto anonymous = reports.CountAnonymousDownloads(cutoff);
        if (!anonymous.ok()) return respond(ErrorResponse(anonymous.status()));
        nlohmann::json stalled_json = nlohmann::json::array();
        for (const auto& s : *stalled)
          stalled_json.push_back({{"udid", s.udid},
                                  {"serial", s.serial},
                                  {"profile", s.profile_id},
                                  {"method", s.method},
                                  {"profile_served_at", s.served_at}});
        nlohmann::json dep_json = nlohmann::json::array();
        for (const auto& d : *unenrolled)
          dep_json.push_back({{"server", d.server},
                              {"serial", d.serial},
                              {"profile_uuid", d.profile_uuid},
                              {"assigned_at", d.assigned_at}});
        respond(net::Response::Json(200, {{"hours", hours},
                                          {"profile_served_no_token_update", stalled_json},
                                          {"dep_assigned_never_enrolled", dep_json},
                                          {"link_downloads_not_tied_to_a_device", *anonymous}}));
      });
}

}  // namespace mdmgw::gateway

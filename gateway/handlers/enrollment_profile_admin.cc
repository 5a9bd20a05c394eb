#include "gateway/handlers/enrollment_profile_admin.h"

#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

std::string Id(const net::Request& r) { return r.DecodedPathParam("id"); }

Result<nlohmann::json> Body(const net::Request& r) {
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (!doc.is_object())
    return Status::InvalidArgument("the body must be a JSON object", "bad_request");
  return doc;
}

// A file name from a profile name: letters, digits, '-' and '_' kept.
std::string FileStem(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
    out += keep ? c : '-';
  }
  return out.empty() ? "enrollment" : out;
}

nlohmann::json LinkJson(const configurator::CreatedLink& l) {
  nlohmann::json j = {{"url", l.url},
                      {"kind", l.record.kind},
                      {"profile", l.record.profile_id},
                      {"expires_at", l.record.expires_at != 0 ? nlohmann::json(l.record.expires_at)
                                                              : nlohmann::json(nullptr)}};
  if (!l.record.subject.empty()) j["subject"] = l.record.subject;
  if (l.record.max_uses != 0) j["max_uses"] = l.record.max_uses;
  // An OTA invitation can be sent as the branded portal page, which links to the profile.
  if (size_t q = l.url.find("/enroll/ota/");
      l.record.kind == "ota-invitation" && q != std::string::npos) {
    size_t t = l.url.find("?invite=", q);
    if (t != std::string::npos) j["portal_url"] = l.url.substr(0, q) + "/portal/" + l.url.substr(t);
  }
  return j;
}

int DaysOr(const nlohmann::json& body, int fallback) {
  auto it = body.find("days");
  return it != body.end() && it->is_number_integer() ? it->get<int>()
         : it != body.end()                          ? -1
                                                     : fallback;
}

}  // namespace

static void AddEnrollmentLinkRoutes(Router& router, configurator::EnrollmentLinks& links) {
  router.Add("POST", "/api/v1/enrollment-profiles/{id}/links",
             [&links](const net::Request& request, net::Respond respond) {
               auto body = nlohmann::json::parse(request.body.empty() ? "{}" : request.body,
                                                 nullptr, false);
               if (!body.is_object())
                 return respond(ErrorResponse(
                     Status::InvalidArgument("the body must be a JSON object", "bad_request")));
               auto link = links.CreateDirectLink(Id(request), DaysOr(body, 14));
               if (!link.ok()) return respond(ErrorResponse(link.status()));
               respond(net::Response::Json(201, LinkJson(*link)));
             });
  router.Add("POST", "/api/v1/enrollment-profiles/{id}/invitations",
             [&links](const net::Request& request, net::Respond respond) {
               auto body = Body(request);
               if (!body.ok()) return respond(ErrorResponse(body.status()));
               std::string user = body->value("user", "");
               auto link = links.CreateInvitation(Id(request), user, DaysOr(*body, 7));
               if (!link.ok()) return respond(ErrorResponse(link.status()));
               respond(net::Response::Json(201, LinkJson(*link)));
             });
  router.Add(
      "POST", "/api/v1/dem-managers", [&links](const net::Request& request, net::Respond respond) {
        auto body = Body(request);
        if (!body.ok()) return respond(ErrorResponse(body.status()));
        auto link = links.CreateDemManager(body->value("name", ""), body->value("profile", ""));
        if (!link.ok()) return respond(ErrorResponse(link.status()));
        respond(net::Response::Json(201, LinkJson(*link)));
      });
  router.Add("GET", "/api/v1/dem-managers", [&links](const net::Request&, net::Respond respond) {
    auto list = links.List("dem");
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    nlohmann::json items = nlohmann::json::array();
    for (const auto& l : *list) {
      items.push_back({{"name", l.subject},
                       {"profile", l.profile_id},
                       {"enrollments", l.uses},
                       {"limit", l.max_uses},
                       {"created_at", l.created_at}});
    }
    respond(net::Response::Json(200, {{"managers", items}}));
  });
}

void AddEnrollmentProfileRoutes(Router& router, configurator::EnrollmentProfileService& profiles,
                                configurator::EnrollmentLinks& links) {
  AddEnrollmentLinkRoutes(router, links);
  router.Add("GET", "/api/v1/enrollment-methods", [](const net::Request&, net::Respond respond) {
    respond(net::Response::Json(200, configurator::EnrollmentMethodsJson()));
  });
  router.Add("POST", "/api/v1/enrollment-profiles",
             [&profiles](const net::Request& request, net::Respond respond) {
               auto body = Body(request);
               if (!body.ok()) return respond(ErrorResponse(body.status()));
               auto p = profiles.Create(*body);
               if (!p.ok()) return respond(ErrorResponse(p.status()));
               respond(net::Response::Json(201, p->ToJson()));
             });
  router.Add("GET", "/api/v1/enrollment-profiles",
             [&profiles](const net::Request&, net::Respond respond) {
               auto list = profiles.List();
               if (!list.ok()) return respond(ErrorResponse(list.status()));
               nlohmann::json items = nlohmann::json::array();
               for (const auto& p : *list) items.push_back(p.ToJson());
               respond(net::Response::Json(200, {{"profiles", items}}));
             });
  router.Add("GET", "/api/v1/enrollment-profiles/{id}",
             [&profiles](const net::Request& request, net::Respond respond) {
               auto p = profiles.Get(Id(request));
               if (!p.ok()) return respond(ErrorResponse(p.status()));
               respond(net::Response::Json(200, p->ToJson()));
             });
  router.Add("PUT", "/api/v1/enrollment-profiles/{id}",
             [&profiles](const net::Request& request, net::Respond respond) {
               auto body = Body(request);
               if (!body.ok()) return respond(ErrorResponse(body.status()));
               auto p = profiles.Update(Id(request), *body);
               if (!p.ok()) return respond(ErrorResponse(p.status()));
               respond(net::Response::Json(200, p->ToJson()));
             });
  router.Add("DELETE", "/api/v1/enrollment-profiles/{id}",
             [&profiles](const net::Request& request, net::Respond respond) {
               Status s = profiles.Delete(Id(request));
               if (!s.ok()) return respond(ErrorResponse(s));
               respond(net::Response::Json(200, {{"deleted", true}}));
             });
  RouteOptions csv_options;
  csv_options.max_body_bytes = 1 << 20;  // 5,000 rows of serial + details
  router.Add(
      "PUT", "/api/v1/enrollment-profiles/{id}/serials",
      [&profiles](const net::Request& request, net::Respond respond) {
        auto imported = profiles.ImportSerials(Id(request), request.body);
        if (!imported.ok()) return respond(ErrorResponse(imported.status()));
        if (!imported->errors.empty()) {
          nlohmann::json lines = nlohmann::json::array();
          for (const auto& [line, why] : imported->errors)
            lines.push_back({{"line", line}, {"error", why}});
          return respond(
              net::Response::Json(400, {{"error",
                                         {{"code", "bad_csv"},
                                          {"message", std::to_string(imported->errors.size()) +
                                                          " bad line(s); nothing was imported"}}},
                                        {"lines", lines}}));
        }
        respond(net::Response::Json(
            200, {{"imported", imported->rows.size()}, {"warnings", imported->warnings}}));
      },
      csv_options);
  router.Add("GET", "/api/v1/enrollment-profiles/{id}/serials",
             [&profiles](const net::Request& request, net::Respond respond) {
               auto list = profiles.Serials(Id(request));
               if (!list.ok()) return respond(ErrorResponse(list.status()));
               nlohmann::json items = nlohmann::json::array();
               for (const auto& [serial, details] : *list)
                 items.push_back({{"serial", serial}, {"details", details}});
               respond(net::Response::Json(200, {{"serials", items}}));
             });
  router.Add(
      "GET", "/api/v1/enrollment-profiles/{id}/export",
      [&profiles](const net::Request& request, net::Respond respond) {
        std::string format = request.QueryParam("format").value_or("");
        auto p = profiles.Get(Id(request));
        if (!p.ok()) return respond(ErrorResponse(p.status()));
        if (format == "usb-sa" && request.QueryParam("download").value_or("") == "zip") {
          auto zip = profiles.UsbSaZip(p->id);
          if (!zip.ok()) return respond(ErrorResponse(zip.status()));
          net::Response r = net::Response::Text(200, std::move(zip).value(), "application/zip");
          r.headers.Add("content-disposition",
                        "attachment; filename=\"" + FileStem(p->name) + "-configurator.zip\"");
          return respond(std::move(r));
        }
        if (format == "usb-sa") {
          auto j = profiles.UsbSaExport(p->id);
          if (!j.ok()) return respond(ErrorResponse(j.status()));
          return respond(net::Response::Json(200, *j));
        }
        if (format != "usb-direct" && format != "mobileconfig") {
          return respond(ErrorResponse(Status::InvalidArgument(
              "format must be usb-sa, usb-direct or mobileconfig", "bad_request")));
        }
        if (format == "usb-direct" && p->method != configurator::EnrollmentMethod::kUsbDirect) {
          return respond(ErrorResponse(Status::FailedPrecondition(
              "the usb-direct export is for usb-direct profiles; this one is " +
                  std::string(configurator::TraitsOf(p->method).name),
              "wrong_method")));
        }
        auto signed_profile = profiles.SignedProfile(p->id);
        if (!signed_profile.ok()) return respond(ErrorResponse(signed_profile.status()));
        net::Response r = net::Response::Text(200, std::move(signed_profile).value(),
                                              "application/x-apple-aspen-config");
        r.headers.Add("content-disposition",
                      "attachment; filename=\"" + FileStem(p->name) + ".mobileconfig\"");
        respond(std::move(r));
      });
}

}  // namespace mdmgw::gateway

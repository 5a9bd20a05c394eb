#include "gateway/handlers/dep_profile_admin.h"

#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

std::string Param(const net::Request& r, std::string_view name) { return r.DecodedPathParam(name); }

nlohmann::json ProfileJson(const store::DepProfileRecord& p, const std::string& default_profile) {
  return {{"server", p.server},
          {"name", p.name},
          {"profile_uuid", p.profile_uuid},
          {"default", p.name == default_profile},
          {"defined_at", p.defined_at},
          {"profile", nlohmann::json::parse(p.definition, nullptr, false)}};
}

// {"serials": [...]} from a body, or an error.
Result<std::vector<std::string>> SerialsOf(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("serials") || !doc["serials"].is_array())
    return Status::InvalidArgument("the body must be {\"serials\": [\"...\", ...]}", "bad_request");
  std::vector<std::string> out;
  for (const auto& s : doc["serials"]) {
    if (!s.is_string()) return Status::InvalidArgument("serials must be strings", "bad_request");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// The answer to an assign/remove/disown: 200 with per-serial results; when the very first call
// to Apple failed (nothing happened), Apple's refusal as the error (403 terms, 503 throttled...).
net::Response OutcomeResponse(const dep::DepAssignOutcome& o) {
  if (!o.ok && o.success + o.not_accessible + o.failed + o.throttled == 0) {
    int http = o.error_code == "terms_not_signed" || o.error_code == "access_denied" ? 403
               : o.error_code == "throttled" || o.error_code == "server_error" ||
                       o.error_code == "unavailable"
                   ? 503
                   : 502;
    net::Response r = net::Response::JsonError(http, o.error_code, o.error);
    if (http == 503) {
      r.headers.Add("retry-after",
                    std::to_string(o.retry_after_seconds > 0 ? o.retry_after_seconds : 60));
    }
    return r;
  }
  return net::Response::Json(200, o.ToJson(true));
}

// A DEP profile request filled from a gateway enrollment profile: its Setup Assistant settings
// and its enrollment URL, for every Apple key the request does not set itself.
Status FillFromEnrollmentProfile(configurator::EnrollmentProfileService& enrollment_profiles,
                                 nlohmann::json& doc, std::string* enrollment_profile_id) {
  auto it = doc.find("enrollment_profile");
  if (it == doc.end()) return Status::Ok();
  if (!it->is_string())
    return Status::InvalidArgument("enrollment_profile must be an id or name", "bad_request");
  auto p = enrollment_profiles.Get(it->get<std::string>());
  if (!p.ok()) return p.status();
  if (p->method != configurator::EnrollmentMethod::kDep) {
    return Status::FailedPrecondition("enrollment profile \"" + p->name + "\" is " +
                                          std::string(configurator::TraitsOf(p->method).name) +
                                          ", not dep",
                                      "wrong_method");
  }
  doc.erase(it);
  auto fill = [&](const char* key, nlohmann::json value) {
    if (!doc.contains(key)) doc[key] = std::move(value);
  };
  fill("profile_name", p->name);
  fill("url", enrollment_profiles.EnrollmentUrl(*p));
  fill("is_supervised", p->flags.supervised);
  fill("is_mdm_removable", !p->flags.locked);
  fill("await_device_configured", p->await_configuration);
  if (!p->skip_setup_items.empty()) fill("skip_setup_items", p->skip_setup_items);
  if (!p->department.empty()) fill("department", p->department);
  if (!p->support_phone.empty()) fill("support_phone_number", p->support_phone);
  if (!p->support_email.empty()) fill("support_email_address", p->support_email);
  *enrollment_profile_id = p->id;
  return Status::Ok();
}

}  // namespace

void AddDepProfileRoutes(Router& router, dep::DepProfileService& profiles,
                         dep::DepAssigner& assigner, dep::DepClients& clients, BlockingWork& work,
                         configurator::EnrollmentProfileService& enrollment_profiles) {
  auto stopped = [](net::Respond respond) {
    return [respond] {
      respond(ErrorResponse(Status::Unavailable("the gateway is stopping", "stopping")));
    };
  };
  router.Add("PUT", "/api/v1/dep/servers/{name}/profiles/{profile}",
             [&profiles, &work, &enrollment_profiles, stopped](const net::Request& request,
                                                               net::Respond respond) {
               auto doc = nlohmann::json::parse(request.body.empty() ? "{}" : request.body, nullptr,
                                                false);
               if (!doc.is_object())
                 return respond(ErrorResponse(Status::InvalidArgument(
                     "the body must be a JSON object of DEP profile fields", "bad_request")));
               std::string from;
               Status filled = FillFromEnrollmentProfile(enrollment_profiles, doc, &from);
               if (!filled.ok()) return respond(ErrorResponse(filled));
               std::string server = Param(request, "name"), name = Param(request, "profile");
               work.Post(
                   [&profiles, respond, server, name, doc, from] {
                     auto r = profiles.Define(server, name, doc, from);
                     if (!r.ok()) return respond(ErrorResponse(r.status()));
                     nlohmann::json j = ProfileJson(r->record, r->is_default ? name : "");
                     if (!from.empty()) j["enrollment_profile"] = from;
                     j["warnings"] = r->warnings;
                     if (r->assigned) j["assigned"] = r->assigned->ToJson(true);
                     if (r->reassigned) j["reassigned"] = r->reassigned->ToJson(false);
                     respond(net::Response::Json(r->created ? 201 : 200, j));
                   },
                   stopped(respond));
             });
  router.Add("GET", "/api/v1/dep/servers/{name}/profiles",
             [&profiles](const net::Request& request, net::Respond respond) {
               std::string server = Param(request, "name");
               auto list = profiles.List(server);
               if (!list.ok()) return respond(ErrorResponse(list.status()));
               std::string def = profiles.DefaultProfile(server);
               nlohmann::json items = nlohmann::json::array();
               for (const auto& p : *list) items.push_back(ProfileJson(p, def));
               respond(net::Response::Json(200, {{"profiles", items}}));
             });
  router.Add("GET", "/api/v1/dep/servers/{name}/profiles/{profile}",
             [&profiles, &work, stopped](const net::Request& request, net::Respond respond) {
               std::string server = Param(request, "name"), name = Param(request, "profile");
               auto p = profiles.Get(server, name);
               if (!p.ok()) return respond(ErrorResponse(p.status()));
               nlohmann::json j = ProfileJson(*p, profiles.DefaultProfile(server));
               std::string remote = request.QueryParam("remote").value_or("");
               if (remote != "1" && remote != "true") return respond(net::Response::Json(200, j));
               work.Post(
                   [&profiles, respond, server, name, j]() mutable {
                     auto apple = profiles.Remote(server, name);
                     if (!apple.ok()) return respond(ErrorResponse(apple.status()));
                     j["apple"] = *apple;
                     respond(net::Response::Json(200, j));
                   },
                   stopped(respond));
             });
  router.Add("POST", "/api/v1/dep/servers/{name}/profiles/{profile}/assign",
             [&assigner, &work, stopped](const net::Request& request, net::Respond respond) {
               auto serials = SerialsOf(nlohmann::json::parse(request.body, nullptr, false));
               if (!serials.ok()) return respond(ErrorResponse(serials.status()));
               std::string server = Param(request, "name"), name = Param(request, "profile");
               work.Post(
                   [&assigner, respond, server, name, list = std::move(serials).value()] {
                     auto r = assigner.Assign(server, name, list);
                     if (!r.ok()) return respond(ErrorResponse(r.status()));
                     respond(OutcomeResponse(*r));
                   },
                   stopped(respond));
             });
  router.Add("POST", "/api/v1/dep/servers/{name}/unassign",
             [&assigner, &work, stopped](const net::Request& request, net::Respond respond) {
               auto serials = SerialsOf(nlohmann::json::parse(request.body, nullptr, false));
               if (!serials.ok()) return respond(ErrorResponse(serials.status()));
               std::string server = Param(request, "name");
               work.Post(
                   [&assigner, respond, server, list = std::move(serials).value()] {
                     auto r = assigner.Remove(server, list);
                     if (!r.ok()) return respond(ErrorResponse(r.status()));
                     respond(OutcomeResponse(*r));
                   },
                   stopped(respond));
             });
  router.Add("POST", "/api/v1/dep/servers/{name}/disown",
             [&assigner, &work, stopped](const net::Request& request, net::Respond respond) {
               auto doc = nlohmann::json::parse(request.body, nullptr, false);
               auto serials = SerialsOf(doc);
               if (!serials.ok()) return respond(ErrorResponse(serials.status()));
               if (doc.value("confirm", std::string()) != "disown")
                 return respond(ErrorResponse(Status::InvalidArgument(
                     "disowning removes the devices from the organisation at Apple and cannot be "
                     "undone here; send \"confirm\": \"disown\"",
                     "confirmation_required")));
               std::string server = Param(request, "name");
               work.Post(
                   [&assigner, respond, server, list = std::move(serials).value()] {
                     auto r = assigner.Disown(server, list);
                     if (!r.ok()) return respond(ErrorResponse(r.status()));
                     respond(OutcomeResponse(*r));
                   },
                   stopped(respond));
             });
  router.Add(
      "GET", "/api/v1/dep/servers/{name}/devices/{serial}",
      [&clients, &work, stopped](const net::Request& request, net::Respond respond) {
        std::string server = Param(request, "name"), serial = Param(request, "serial");
        work.Post(
            [&clients, respond, server, serial] {
              auto lease = clients.For(server);
              if (!lease.ok()) return respond(ErrorResponse(lease.status()));
              auto details = lease->client->DeviceDetails({serial});
              if (!details.ok()) return respond(ErrorResponse(details.status()));
              auto it = details->find(serial);
              if (it == details->end() || !it->is_object() ||
                  it->value("response_status", "") == "NOT_ACCESSIBLE")
                return respond(ErrorResponse(Status::NotFound(
                    "Apple does not list \"" + serial + "\" for this server", "not_accessible")));
              respond(net::Response::Json(200, *it));
            },
            stopped(respond));
      });
}

}  // namespace mdmgw::gateway

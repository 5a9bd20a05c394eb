#include "gateway/handlers/dep_admin.h"

#include <algorithm>

#include "common/clock.h"

#include "gateway/http_errors.h"
#include "gateway/multipart.h"

namespace mdmgw::gateway {
namespace {

nlohmann::json InfoJson(const dep::DepServerInfo& i) {
  nlohmann::json token = nullptr;
  if (i.has_token) {
    token = {{"consumer_key", i.consumer_key},
             {"expiry", i.token_expiry},
             {"days_left", i.token_days_left},
             {"uploaded_at", i.token_uploaded_at}};
  }
  return {
      {"name", i.name},
      {"base_url", i.base_url},
      {"sync_interval_seconds", i.sync_interval_seconds},
      {"token", token},
      {"account",
       {{"server_uuid", i.server_uuid}, {"server_name", i.server_name}, {"org_name", i.org_name}}}};
}

// Adds the sync state, terms state, default profile and device counts to a server's JSON.
void AddSyncState(nlohmann::json& j, store::DepStore& store, const std::string& name) {
  auto state = store.GetDepSyncState(name);
  nlohmann::json sync = nullptr;
  std::string terms = "unknown";  // until Apple has answered a sync
  if (state.ok() && state->last_sync_at != 0) {
    auto last = nlohmann::json::parse(state->last_result, nullptr, false);
    int64_t now = Clock::System().NowUnixSeconds();
    sync = {{"last_sync_at", state->last_sync_at},
            {"last_sync_age_seconds", now - state->last_sync_at},
            {"phase", state->phase},
            {"cursor_age_seconds",
             state->cursor_at != 0 ? nlohmann::json(now - state->cursor_at) : nullptr},
            {"next_sync_at", state->next_sync_at},
            {"last_result", last}};
    std::string code;
    if (last.is_object() && last.contains("error") && last["error"].is_object())
      code = last["error"].value("code", "");
    if (code == "terms_not_signed") {
      terms = "not_signed";
    } else if (last.is_object() && last.value("ok", false)) {
      terms = "accepted";
    }
  }
  j["sync"] = sync;
  j["terms"] = terms;
  j["devices"] = store.CountDepDevices(name).value_or(0);
  auto by_state = store.CountDepDevicesByState(name);
  nlohmann::json counts = nlohmann::json::object();
  for (const char* s : store::kDepAssignmentStates) counts[s] = 0;
  if (by_state.ok())
    for (const auto& [k, v] : *by_state) counts[k] = v;
  j["devices_by_assignment"] = counts;
  auto record = store.GetDepServer(name);
  j["default_profile"] = record.ok() && !record->default_profile.empty()
                             ? nlohmann::json(record->default_profile)
                             : nlohmann::json(nullptr);
}

std::string Name(const net::Request& r) { return r.DecodedPathParam("name"); }

}  // namespace

void AddDepAdminRoutes(Router& router, dep::DepServerService& servers, dep::DepSyncer& syncer,
                       store::DepStore& store) {
  router.Add("GET", "/api/v1/dep/servers",
             [&servers, &store](const net::Request&, net::Respond respond) {
               auto list = servers.List();
               if (!list.ok()) return respond(ErrorResponse(list.status()));
               nlohmann::json items = nlohmann::json::array();
               for (const auto& i : *list) {
                 nlohmann::json j = InfoJson(i);
                 AddSyncState(j, store, i.name);
                 items.push_back(std::move(j));
               }
               respond(net::Response::Json(200, {{"servers", items}}));
             });
  router.Add("PUT", "/api/v1/dep/servers/{name}",
             [&servers](const net::Request& request, net::Respond respond) {
               dep::DepServerSettings settings;
               if (!request.body.empty()) {
                 auto doc = nlohmann::json::parse(request.body, nullptr, false);
                 if (!doc.is_object())
                   return respond(ErrorResponse(
                       Status::InvalidArgument("the body must be a JSON object", "bad_request")));
                 if (doc.contains("base_url")) {
                   if (!doc["base_url"].is_string())
                     return respond(ErrorResponse(
                         Status::InvalidArgument("base_url must be a string", "bad_request")));
                   settings.base_url = doc["base_url"].get<std::string>();
                 }
                 if (doc.contains("sync_interval_seconds")) {
                   if (!doc["sync_interval_seconds"].is_number_integer())
                     return respond(ErrorResponse(Status::InvalidArgument(
                         "sync_interval_seconds must be an integer", "bad_request")));
                   settings.sync_interval_seconds = doc["sync_interval_seconds"].get<int64_t>();
                 }
               }
               auto info = servers.Upsert(Name(request), settings);
               if (!info.ok()) return respond(ErrorResponse(info.status()));
               respond(net::Response::Json(info->created ? 201 : 200, InfoJson(*info)));
             });
  router.Add("GET", "/api/v1/dep/servers/{name}",
             [&servers, &store](const net::Request& request, net::Respond respond) {
               auto info = servers.Info(Name(request));
               if (!info.ok()) return respond(ErrorResponse(info.status()));
               nlohmann::json j = InfoJson(*info);
               AddSyncState(j, store, info->name);
               respond(net::Response::Json(200, j));
             });
  router.Add("POST", "/api/v1/dep/servers/{name}/sync",
             [&servers, &syncer](const net::Request& request, net::Respond respond) {
               std::string name = Name(request);
               auto info = servers.Info(name);
               if (!info.ok()) return respond(ErrorResponse(info.status()));
               if (!info->has_token)
                 return respond(ErrorResponse(
                     Status::FailedPrecondition("upload the server token first", "no_token")));
               std::string wait = request.QueryParam("wait").value_or("");
               if (wait == "1" || wait == "true") {
                 // Answered from the syncer's worker when the sync is done.
                 syncer.RequestSync(name, [respond](dep::DepSyncResult r) {
                   // 409: another instance is syncing this server (its lease); 503: stopping;
                   // 502: Apple (or the sync against it) failed.
                   int status = r.ok                                  ? 200
                                : r.error_code == "running_elsewhere" ? 409
                                : r.error_code == "stopped"           ? 503
                                                                      : 502;
                   respond(net::Response::Json(status, r.ToJson()));
                 });
                 return;
               }
               syncer.RequestSync(name, nullptr);
               respond(net::Response::Json(202, {{"server", name}, {"queued", true}}));
             });
  router.Add(
      "GET", "/api/v1/dep/devices", [&store](const net::Request& request, net::Respond respond) {
        std::string server = request.QueryParam("server").value_or("");
        if (server.empty())
          return respond(ErrorResponse(
              Status::InvalidArgument("give ?server=<DEP server name>", "bad_request")));
        std::string status = request.QueryParam("status").value_or("");
        if (!status.empty() && std::find_if(std::begin(store::kDepAssignmentStates),
                                            std::end(store::kDepAssignmentStates),
                                            [&](const char* s) { return status == s; }) ==
                                   std::end(store::kDepAssignmentStates))
          return respond(ErrorResponse(Status::InvalidArgument(
              "status must be one of assigned, pushed, unassigned, throttled, failed, "
              "not_accessible",
              "bad_request")));
        if (!store.GetDepServer(server).ok())
          return respond(ErrorResponse(
              Status::NotFound("no DEP server named \"" + server + "\"", "not_found")));
        int limit = 500;
        if (auto l = request.QueryParam("limit")) {
          limit = std::atoi(l->c_str());
          if (limit < 1 || limit > 1000)
            return respond(
                ErrorResponse(Status::InvalidArgument("limit must be 1 to 1000", "bad_request")));
        }
        auto page =
            store.ListDepDevices(server, request.QueryParam("cursor").value_or(""), limit, status);
        if (!page.ok()) return respond(ErrorResponse(page.status()));
        nlohmann::json devices = nlohmann::json::array();
        for (const auto& d : *page) {
          devices.push_back({{"serial_number", d.serial},
                             {"model", d.model},
                             {"description", d.description},
                             {"color", d.color},
                             {"os", d.os},
                             {"device_family", d.device_family},
                             {"profile_status", d.profile_status},
                             {"profile_uuid", d.profile_uuid},
                             {"op_type", d.op_type},
                             {"op_date", d.op_date},
                             {"assignment",
                              {{"state", d.assignment},
                               {"profile_uuid", d.assign_profile_uuid},
                               {"attempts", d.assign_attempts},
                               {"attempted_at", d.assign_attempted_at},
                               {"retry_at", d.assign_retry_at}}}});
        }
        nlohmann::json body = {{"devices", devices}};
        if (static_cast<int>(page->size()) == limit) body["next_cursor"] = page->back().serial;
        respond(net::Response::Json(200, body));
      });
  router.Add("DELETE", "/api/v1/dep/servers/{name}",
             [&servers](const net::Request& request, net::Respond respond) {
               Status s = servers.Delete(Name(request));
               if (!s.ok()) return respond(ErrorResponse(s));
               respond(net::Response::Json(200, {{"deleted", true}}));
             });
  router.Add("GET", "/api/v1/dep/servers/{name}/certificate",
             [&servers](const net::Request& request, net::Respond respond) {
               std::string name = Name(request);
               auto pem = servers.Certificate(name);
               if (!pem.ok()) return respond(ErrorResponse(pem.status()));
               net::Response r = net::Response::Text(200, *pem, "application/x-pem-file");
               r.headers.Add("content-disposition",
                             "attachment; filename=\"mdm-gateway-dep-" + name + ".pem\"");
               respond(std::move(r));
             });
  RouteOptions token_options;
  token_options.max_body_bytes = 64 << 10;
  token_options.admin = true;
  router.Add(
      "PUT", "/api/v1/dep/servers/{name}/token",
      [&servers](const net::Request& request, net::Respond respond) {
        std::string body = request.body;
        if (auto boundary = MultipartBoundary(request.headers.Get("content-type").value_or(""))) {
          auto parts = ParseMultipart(request.body, *boundary);
          if (!parts.ok()) return respond(ErrorResponse(parts.status()));
          body.clear();
          for (auto& p : *parts)
            if (p.name == "token" || p.name == "file") body = std::move(p.body);
          if (body.empty())
            return respond(ErrorResponse(
                Status::InvalidArgument("the form has no \"token\" part", "bad_request")));
        }
        if (body.empty())
          return respond(ErrorResponse(Status::InvalidArgument(
              "empty body: send the .p7m file Apple Business Manager gave", "bad_request")));
        std::string force = request.QueryParam("force").value_or("");
        auto info = servers.UploadToken(Name(request), body, force == "1" || force == "true");
        if (!info.ok()) return respond(ErrorResponse(info.status()));
        respond(net::Response::Json(200, InfoJson(*info)));
      },
      token_options);
}

}  // namespace mdmgw::gateway

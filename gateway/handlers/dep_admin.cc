#include "gateway/handlers/dep_admin.h"

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

std::string Name(const net::Request& r) {
  return net::PercentDecode(r.PathParam("name").value_or(""), false).value_or("");
}

}  // namespace

void AddDepAdminRoutes(Router& router, dep::DepServerService& servers) {
  router.Add("GET", "/api/v1/dep/servers", [&servers](const net::Request&, net::Respond respond) {
    auto list = servers.List();
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : *list) items.push_back(InfoJson(i));
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
             [&servers](const net::Request& request, net::Respond respond) {
               auto info = servers.Info(Name(request));
               if (!info.ok()) return respond(ErrorResponse(info.status()));
               respond(net::Response::Json(200, InfoJson(*info)));
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

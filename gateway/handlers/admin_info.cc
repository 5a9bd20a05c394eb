#include "gateway/handlers/admin_info.h"

#include "common/clock.h"
#include "common/log.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {

void AddAdminInfoRoutes(Router& router, store::Store& store, ApiKeys& api_keys) {
  router.Add("GET", "/api/v1/info", [&store](const net::Request&, net::Respond respond) {
    auto version = store.SchemaVersion();
    if (!version.ok()) return respond(ErrorResponse(version.status()));
    respond(net::Response::Json(
        200, {{"version", "0.1.0"},
              {"store", {{"backend", store.backend()}, {"schema_version", *version}}}}));
  });
  router.Add("GET", "/api/v1/apikeys", [&store](const net::Request&, net::Respond respond) {
    auto keys = store.ListApiKeys();
    if (!keys.ok()) return respond(ErrorResponse(keys.status()));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& k : *keys) {
      nlohmann::json item = {{"id", k.id}, {"name", k.name}, {"created_at", k.created_at}};
      item["revoked_at"] = k.revoked_at ? nlohmann::json(*k.revoked_at) : nlohmann::json(nullptr);
      item["last_used_at"] =
          k.last_used_at ? nlohmann::json(*k.last_used_at) : nlohmann::json(nullptr);
      list.push_back(std::move(item));
    }
    respond(net::Response::Json(200, {{"api_keys", list}}));
  });
  // A new key is in the answer once; only its hash is stored.
  router.Add(
      "POST", "/api/v1/apikeys", [&api_keys](const net::Request& request, net::Respond respond) {
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
          return respond(ErrorResponse(
              Status::InvalidArgument("the body must be {\"name\": \"...\"}", "bad_request")));
        }
        auto created = api_keys.Create(body["name"].get<std::string>());
        if (!created.ok()) return respond(ErrorResponse(created.status()));
        log::Info("API key created over the API",
                  {{"id", created->record.id}, {"name", created->record.name}});
        respond(net::Response::Json(201, {{"id", created->record.id},
                                          {"name", created->record.name},
                                          {"created_at", created->record.created_at},
                                          {"key", created->key.Expose()}}));
      });
  // Revoking takes effect at once. The last active key is kept, so the API cannot lock every
  // admin out (`mdm-gateway apikey create` on the server makes a new one either way).
  router.Add("DELETE", "/api/v1/apikeys/{key}",
             [&store](const net::Request& request, net::Respond respond) {
               std::string target = request.DecodedPathParam("key");
               auto keys = store.ListApiKeys();
               if (!keys.ok()) return respond(ErrorResponse(keys.status()));
               const store::ApiKeyRecord* found = nullptr;
               int active = 0;
               for (const auto& k : *keys) {
                 if (!k.revoked_at) ++active;
                 if (k.id == target || k.name == target) found = &k;
               }
               if (found == nullptr) {
                 return respond(ErrorResponse(
                     Status::NotFound("no API key named or with id " + target, "not_found")));
               }
               if (!found->revoked_at && active <= 1) {
                 return respond(ErrorResponse(Status::FailedPrecondition(
                     "'" + found->name + "' is the last active API key; create another first",
                     "last_active_key")));
               }
               std::string id = found->id, name = found->name;
               Status s = store.RevokeApiKey(id, Clock::System().NowUnixSeconds());
               if (!s.ok()) return respond(ErrorResponse(s));
               log::Info("API key revoked over the API", {{"id", id}, {"name", name}});
               respond(net::Response::Json(200, {{"revoked", {{"id", id}, {"name", name}}}}));
             });
}

}  // namespace mdmgw::gateway

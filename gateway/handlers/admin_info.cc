#include "gateway/handlers/admin_info.h"

#include "gateway/http_errors.h"

namespace mdmgw::gateway {

void AddAdminInfoRoutes(Router& router, store::Store& store) {
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
}

}  // namespace mdmgw::gateway

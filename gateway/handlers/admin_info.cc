#include "gateway/handlers/admin_info.h"

#include <cstdlib>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {

namespace {

// ?limit=N (1..500, default 100) and ?before=ID (records older than that id).
Status ParseAuditQuery(const net::Request& request, int* limit, int64_t* before) {
  *limit = 100;
  *before = 0;
  if (auto v = request.QueryParam("limit")) {
    char* end = nullptr;
    long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 1 || n > 500) {
      return Status::InvalidArgument("limit must be a number from 1 to 500", "invalid_limit");
    }
    *limit = static_cast<int>(n);
  }
  if (auto v = request.QueryParam("before")) {
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 1) {
      return Status::InvalidArgument("before must be a positive record id", "invalid_before");
    }
    *before = n;
  }
  return Status::Ok();
}

}  // namespace

void AddAdminInfoRoutes(Router& router, store::Store& store, ApiKeys& api_keys) {
  // The audit log, newest first; next_before pages on (absent on the last page).
  router.Add("GET", "/api/v1/audit", [&store](const net::Request& request, net::Respond respond) {
    int limit = 0;
    int64_t before = 0;
    Status s = ParseAuditQuery(request, &limit, &before);
    if (!s.ok()) return respond(ErrorResponse(s));
    auto records = store.ListAudit(before, limit);
    if (!records.ok()) return respond(ErrorResponse(records.status()));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : *records) {
      list.push_back(
          {{"id", r.id},
           {"at", r.at},
           {"actor", {{"id", r.actor_id}, {"name", r.actor}}},
           {"remote", r.remote},
           {"method", r.method},
           {"path", r.path},
           {"route", r.route},
           {"status", r.status},
           {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
    }
    nlohmann::json body = {{"records", list}};
    if (static_cast<int>(records->size()) == limit) body["next_before"] = records->back().id;
    respond(net::Response::Json(200, body));
  });
  router.Add("GET", "/api/v1/info", [&store](const net::Request&, net::Respond respond) {
    auto version = store.SchemaVersion();
    if (!version.ok()) return respond(ErrorResponse(version.status()));
    respond(net::Response::Json(
        200, {{"version", "0.1.0"},
              {"store", {{"backend", store.backend()}, {"schema_version", *version}}}}));
  });
  // The instances sharing this store, as far as their leases show, and who holds what.
  router.Add("GET", "/api/v1/cluster", [&store](const net::Request&, net::Respond respond) {
    auto leases = store.ListLeases();
    if (!leases.ok()) return respond(ErrorResponse(leases.status()));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& l : *leases) {
      list.push_back({{"name", l.name},
                      {"holder", l.held() ? nlohmann::json(l.holder) : nlohmann::json(nullptr)},
                      {"last_holder", l.holder},
                      {"token", l.token},
                      {"expires_in_ms", l.held() ? l.expires_at_ms - l.now_ms : 0},
                      {"held_for_ms", l.held() ? l.now_ms - l.acquired_at_ms : 0}});
    }
    respond(net::Response::Json(
        200, {{"instance", store.instance_id()}, {"backend", store.backend()}, {"leases", list}}));
  });
  router.Add("GET", "/api/v1/apikeys", [&store](const net::Request&, net::Respond respond) {
    auto keys = store.ListApiKeys();
    if (!keys.ok()) return respond(ErrorResponse(keys.status()));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& k : *keys) {
      nlohmann::json item = {
          {"id", k.id}, {"name", k.name}, {"scope", k.scope}, {"created_at", k.created_at}};
      item["revoked_at"] = k.revoked_at ? nlohmann::json(*k.revoked_at) : nlohmann::json(nullptr);
      item["last_used_at"] =
          k.last_used_at ? nlohmann::json(*k.last_used_at) : nlohmann::json(nullptr);
      list.push_back(std::move(item));
    }
    respond(net::Response::Json(200, {{"api_keys", list}}));
  });
  // A new key is in the answer once; only its hash is stored.
  router.Add("POST", "/api/v1/apikeys",
             [&api_keys](const net::Request& request, net::Respond respond) {
               auto body = nlohmann::json::parse(request.body, nullptr, false);
               if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
                 return respond(ErrorResponse(Status::InvalidArgument(
                     "the body must be {\"name\": \"...\", \"scope\": \"admin\" | \"read\"}",
                     "bad_request")));
               }
               std::string scope(kAdminScope);
               if (body.contains("scope")) {
                 if (!body["scope"].is_string()) {
                   return respond(ErrorResponse(Status::InvalidArgument(
                       "scope must be the string \"admin\" or \"read\"", "invalid_scope")));
                 }
                 scope = body["scope"].get<std::string>();
               }
               auto created = api_keys.Create(body["name"].get<std::string>(), scope);
               if (!created.ok()) return respond(ErrorResponse(created.status()));
               log::Info("API key created over the API", {{"id", created->record.id},
                                                          {"name", created->record.name},
                                                          {"scope", created->record.scope}});
               respond(net::Response::Json(201, {{"id", created->record.id},
                                                 {"name", created->record.name},
                                                 {"scope", created->record.scope},
                                                 {"created_at", created->record.created_at},
                                                 {"key", created->key.Expose()}}));
             });
  // Revoking takes effect at once. The last active admin key is kept, so the API cannot lock every
  // admin out (`mdm-gateway apikey create` on the server makes a new one either way).
  router.Add("DELETE", "/api/v1/apikeys/{key}",
             [&store](const net::Request& request, net::Respond respond) {
               std::string target = request.DecodedPathParam("key");
               auto keys = store.ListApiKeys();
               if (!keys.ok()) return respond(ErrorResponse(keys.status()));
               const store::ApiKeyRecord* found = nullptr;
               int active = 0;
               for (const auto& k : *keys) {
                 if (!k.revoked_at && k.scope == kAdminScope) ++active;
                 if (k.id == target || k.name == target) found = &k;
               }
               if (found == nullptr) {
                 return respond(ErrorResponse(
                     Status::NotFound("no API key named or with id " + target, "not_found")));
               }
               if (!found->revoked_at && found->scope == kAdminScope && active <= 1) {
                 return respond(ErrorResponse(Status::FailedPrecondition(
                     "'" + found->name + "' is the last active admin API key; create another first",
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

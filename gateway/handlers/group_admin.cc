#include "gateway/handlers/group_admin.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/names.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

constexpr size_t kMaxMembers = 100000;

std::string Name(const net::Request& r) { return r.DecodedPathParam("name"); }

nlohmann::json GroupJson(const store::GroupRecord& g) {
  return {
      {"name", g.name}, {"serials", g.serials}, {"users", g.users}, {"updated_at", g.updated_at}};
}

Status ReadMembers(const nlohmann::json& body, const char* key, bool serial,
                   std::vector<std::string>* out) {
  auto it = body.find(key);
  if (it == body.end()) return Status::Ok();
  if (!it->is_array())
    return Status::InvalidArgument(std::string(key) + " must be a list", "bad_request");
  if (it->size() > kMaxMembers)
    return Status::InvalidArgument(std::string(key) + ": at most 100,000", "bad_request");
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 254)
      return Status::InvalidArgument(std::string(key) + " must hold non-empty strings",
                                     "bad_request");
    std::string s = v.get<std::string>();
    if (serial) {
      if (s.size() > 64 || !std::all_of(s.begin(), s.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0;
          }))
        return Status::InvalidArgument("\"" + s + "\" is not a serial number", "bad_serial");
      std::transform(s.begin(), s.end(), s.begin(), ::toupper);
    }
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

void AddGroupRoutes(Router& router, store::ProfileStore& store) {
  RouteOptions big;
  big.max_body_bytes = 8 << 20;  // 100,000 members
  router.Add(
      "PUT", "/api/v1/groups/{name}",
      [&store](const net::Request& request, net::Respond respond) {
        std::string name = Name(request);
        if (!IsPlainName(name))
          return respond(ErrorResponse(
              Status::InvalidArgument("group names are 1-64 of A-Z a-z 0-9 . _ -", "bad_name")));
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object())
          return respond(ErrorResponse(Status::InvalidArgument(
              "the body must be {\"serials\": [...], \"users\": [...]}", "bad_request")));
        store::GroupRecord g;
        g.name = name;
        g.updated_at = static_cast<int64_t>(std::time(nullptr));
        for (auto [key, serial, out] :
             {std::tuple{"serials", true, &g.serials}, std::tuple{"users", false, &g.users}}) {
          Status s = ReadMembers(body, key, serial, out);
          if (!s.ok()) return respond(ErrorResponse(s));
        }
        bool created = store.GetGroup(name).status().IsNotFound();
        Status s = store.PutGroup(g);
        if (!s.ok()) return respond(ErrorResponse(s));
        respond(net::Response::Json(
            created ? 201 : 200,
            {{"name", name}, {"serials", g.serials.size()}, {"users", g.users.size()}}));
      },
      big);
  router.Add("GET", "/api/v1/groups", [&store](const net::Request&, net::Respond respond) {
    auto list = store.ListGroups();
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    nlohmann::json items = nlohmann::json::array();
    for (const auto& g : *list)
      items.push_back({{"name", g.name},
                       {"serials", g.serials.size()},
                       {"users", g.users.size()},
                       {"updated_at", g.updated_at}});
    respond(net::Response::Json(200, {{"groups", items}}));
  });
  router.Add("GET", "/api/v1/groups/{name}",
             [&store](const net::Request& request, net::Respond respond) {
               auto g = store.GetGroup(Name(request));
               if (!g.ok()) return respond(ErrorResponse(g.status()));
               respond(net::Response::Json(200, GroupJson(*g)));
             });
  router.Add("DELETE", "/api/v1/groups/{name}",
             [&store](const net::Request& request, net::Respond respond) {
               Status s = store.DeleteGroup(Name(request));
               if (!s.ok()) return respond(ErrorResponse(s));
               respond(net::Response::Json(200, {{"deleted", true}}));
             });
}

}  // namespace mdmgw::gateway

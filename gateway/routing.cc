#include "gateway/routing.h"

#include "common/log.h"
#include "common/names.h"

namespace mdmgw::gateway {
namespace {

Status Bad(std::string message) {
  return Status::InvalidArgument("routing: " + std::move(message), "bad_routing");
}

bool IsHttpUrl(const std::string& u) {
  return (u.rfind("http://", 0) == 0 && u.size() > 7) ||
         (u.rfind("https://", 0) == 0 && u.size() > 8);
}

constexpr size_t kMaxDeviceOverrides = 100000;

}  // namespace

Routing::Routing(store::EnrollmentStore& enrollments, store::ProfileStore& groups,
                 UpstreamTarget default_target)
    : enrollments_(enrollments), groups_(groups), default_(std::move(default_target)) {
  default_.name = "default";
  auto table = std::make_shared<Table>();
  table->upstreams["default"] = default_;
  table_ = table;
}

auto Routing::Build(const nlohmann::json& doc) const -> Result<std::shared_ptr<const Table>> {
  if (!doc.is_object()) return Bad("the body must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "default" && key != "upstreams" && key != "groups" && key != "devices") {
      return Bad("unknown key '" + key + "' (default, upstreams, groups, devices)");
    }
  }
  auto table = std::make_shared<Table>();
  table->upstreams["default"] = default_;
  if (doc.contains("upstreams")) {
    const auto& ups = doc["upstreams"];
    if (!ups.is_object()) return Bad("upstreams must be an object of name → {url}");
    for (const auto& [name, spec] : ups.items()) {
      if (name == "default" || !IsPlainName(name) || name.size() > 64) {
        return Bad("upstream name '" + name + "' is reserved or not a plain name");
      }
      if (!spec.is_object() || !spec.contains("url") || !spec["url"].is_string()) {
        return Bad("upstream '" + name + "' needs a url");
      }
      UpstreamTarget t{name, spec["url"].get<std::string>(), ""};
      if (spec.contains("checkin_url")) {
        if (!spec["checkin_url"].is_string()) return Bad("checkin_url must be a string");
        t.checkin_url = spec["checkin_url"].get<std::string>();
      }
      if (!IsHttpUrl(t.url) || (!t.checkin_url.empty() && !IsHttpUrl(t.checkin_url))) {
        return Bad("upstream '" + name + "' URLs must be http:// or https://");
      }
      table->upstreams[name] = t;
    }
  }
  auto known = [&](const nlohmann::json& v, const std::string& where) -> Result<std::string> {
    if (!v.is_string()) return Bad(where + " must name an upstream");
    std::string n = v.get<std::string>();
    if (!table->upstreams.count(n)) return Bad(where + " names unknown upstream '" + n + "'");
    return n;
  };
  if (doc.contains("default")) {
    auto n = known(doc["default"], "default");
    if (!n.ok()) return n.status();
    table->default_name = *n;
  }
  if (doc.contains("groups")) {
    const auto& groups = doc["groups"];
    if (!groups.is_array()) return Bad("groups must be an array of {group, upstream}");
    for (const auto& rule : groups) {
      if (!rule.is_object() || !rule.contains("group") || !rule["group"].is_string() ||
          !rule.contains("upstream")) {
        return Bad("each groups entry needs group and upstream");
      }
      std::string g = rule["group"].get<std::string>();
      auto exists = groups_.GetGroup(g);
      if (!exists.ok()) {
        if (exists.status().IsNotFound()) return Bad("no group named '" + g + "'");
        return exists.status();
      }
      auto n = known(rule["upstream"], "group '" + g + "'");
      if (!n.ok()) return n.status();
      table->groups.emplace_back(g, *n);
    }
  }
  if (doc.contains("devices")) {
    const auto& devices = doc["devices"];
    if (!devices.is_object()) return Bad("devices must be an object of device id → upstream");
    if (devices.size() > kMaxDeviceOverrides) {
      return Bad("more than " + std::to_string(kMaxDeviceOverrides) + " device overrides");
    }
    for (const auto& [id, v] : devices.items()) {
      if (id.empty() || id.size() > 128) return Bad("device id '" + id + "' is not valid");
      auto n = known(v, "device '" + id + "'");
      if (!n.ok()) return n.status();
      table->devices[id] = *n;
    }
  }
  table->document = doc;
  return std::shared_ptr<const Table>(table);
}

Status Routing::Load() {
  auto text = enrollments_.GetRouting();
  if (!text.ok()) return text.status().IsNotFound() ? Status::Ok() : text.status();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  auto table = Build(doc);
  if (!table.ok()) {
    // A stored document that no longer validates (a group deleted since) still routes what it
    // can: log and keep the default for everything rather than refuse to start.
    log::Warn("routing: stored document no longer valid; using the default upstream",
              {{"error", table.status().ToString()}});
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  table_ = *table;
  return Status::Ok();
}

Status Routing::Put(const nlohmann::json& document, int64_t now) {
  auto table = Build(document);
  if (!table.ok()) return table.status();
  MDMGW_RETURN_IF_ERROR(enrollments_.PutRouting(document.dump(), now));
  std::lock_guard lock(mu_);
  table_ = *table;
  return Status::Ok();
}

nlohmann::json Routing::Get() const {
  std::shared_ptr<const Table> t;
  {
    std::lock_guard lock(mu_);
    t = table_;
  }
  nlohmann::json out = nlohmann::json::object();
  out["default"] = t->default_name;
  nlohmann::json ups = nlohmann::json::object();
  for (const auto& [name, u] : t->upstreams) {
    ups[name] = {{"url", u.url}};
    if (!u.checkin_url.empty()) ups[name]["checkin_url"] = u.checkin_url;
  }
  out["upstreams"] = ups;
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [g, u] : t->groups) groups.push_back({{"group", g}, {"upstream", u}});
  out["groups"] = groups;
  out["devices"] = t->devices;
  return out;
}

Result<UpstreamTarget> Routing::Resolve(const std::string& device_id,
                                        const std::string& serial) const {
  std::shared_ptr<const Table> t;
  {
    std::lock_guard lock(mu_);
    t = table_;
  }
  std::string name = t->default_name;
  if (auto it = t->devices.find(device_id); it != t->devices.end()) {
    name = it->second;
  } else if (!t->groups.empty()) {
    std::string s = serial;
    if (s.empty()) {
      auto record = enrollments_.GetEnrollment(device_id);
      if (record.ok()) s = record->serial;
    }
    if (!s.empty()) {
      for (const auto& [group, upstream] : t->groups) {
        auto member = groups_.IsGroupMember({group}, "serial", s);
        if (!member.ok()) return member.status();
        if (*member) {
          name = upstream;
          break;
        }
      }
    }
  }
  const UpstreamTarget& target = t->upstreams.at(name);
  if (target.url.empty()) {
    return Status::Unavailable("no core MDM configured (set --upstream-url)", "no_upstream");
  }
  return target;
}

}  // namespace mdmgw::gateway

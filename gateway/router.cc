#include "gateway/router.h"

#include <chrono>
#include <optional>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return parts;
}

bool IsAdminPath(std::string_view path) {
  return path.rfind("/api/v1/", 0) == 0 || path == "/api/v1";
}

}  // namespace

Router::Router(uint64_t default_max_body_bytes, GatewayMetrics& metrics, ApiKeys* api_keys)
    : default_max_body_bytes_(default_max_body_bytes),
      metrics_(metrics),
      api_keys_(api_keys),
      unmatched_(NewRoute("other", "unmatched")) {}

std::unique_ptr<Router::Route> Router::NewRoute(std::string method, std::string pattern) {
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->pattern = std::move(pattern);
  route->latency = &metrics_.latency.WithLabels({route->pattern});
  return route;
}

void Router::Record(const Route& route, int status, std::chrono::steady_clock::time_point start) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  route.latency->Observe(seconds);
  if (status < 0 || status >= static_cast<int>(route.by_status.size())) status = 0;
  auto& slot = route.by_status[static_cast<size_t>(status)];
  metrics::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may both look it up; the family hands both the same child.
    counter = &metrics_.requests.WithLabels({route.pattern, route.method, std::to_string(status)});
    slot.store(counter, std::memory_order_release);
  }
  counter->Inc();
}

void Router::Add(std::string method, std::string pattern, RouteHandler handler,
                 RouteOptions options) {
  auto owned = NewRoute(std::move(method), pattern);
  Route& route = *owned;
  for (std::string_view part : SplitPath(pattern)) {
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      size_t close = part.find('}');
      seg.param = std::string(part.substr(1, close - 1));
      seg.suffix = std::string(part.substr(close + 1));
    } else {
      seg.literal = std::string(part);
    }
    route.segments.push_back(std::move(seg));
  }
  route.handler = std::move(handler);
  route.options = options;
  if (IsAdminPath(pattern)) route.options.admin = true;
  routes_.push_back(std::move(owned));
}

bool Router::MatchRoute(const Route& route, std::string_view path,
                        std::vector<std::pair<std::string, std::string>>* params) {
  auto parts = SplitPath(path);
  if (parts.size() != route.segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    std::string_view part = parts[i];
    if (seg.param.empty()) {
      if (part != seg.literal) return false;
      continue;
    }
    if (part.size() <= seg.suffix.size() ||
        part.substr(part.size() - seg.suffix.size()) != seg.suffix) {
      return false;
    }
    auto value = net::PercentDecode(part.substr(0, part.size() - seg.suffix.size()), false);
    if (!value || value->empty()) return false;
    params->emplace_back(seg.param, std::move(*value));
  }
  return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& route : routes_) {
    if (!MatchRoute(*route, path, &params)) continue;
    if (route->method == method) {
      match.route = route.get();
      match.params = std::move(params);
      return match;
    }
    if (!match.allowed.empty()) match.allowed += ", ";
    match.allowed += route->method;
  }
  return match;
}

uint64_t Router::MaxBodyBytes(const net::Request& headers_only) const {
  Match m = Find(headers_only.method, headers_only.path);
  if (m.route && m.route->options.max_body_bytes > 0) return m.route->options.max_body_bytes;
  return default_max_body_bytes_;
}

void Router::Handle(std::unique_ptr<net::Request> request, net::Respond respond) {
  auto start = std::chrono::steady_clock::now();
  Match match = Find(request->method, request->path);
  const Route* metrics_route = match.route ? match.route : unmatched_.get();
  // Answers produced here are counted and timed under the route's pattern (or "unmatched").
  auto answer = [&](net::Response response) {
    Record(*metrics_route, response.status, start);
    respond(std::move(response));
  };

  bool admin = IsAdminPath(request->path) || (match.route && match.route->options.admin);
  std::optional<store::ApiKeyRecord> actor;  // the admin key, when this request is audited
  if (admin) {
    if (api_keys_ == nullptr) {
      answer(ErrorResponse(Status::Unauthenticated("admin API disabled")));
      return;
    }
    if (limiter_ != nullptr) {
      if (auto wait = limiter_->Blocked(request->remote_address)) {
        net::Response r = net::Response::JsonError(
            429, "too_many_auth_failures",
            "too many failed API key attempts from this address; retry in " +
                std::to_string(*wait) + " s");
        r.headers.Set("retry-after", std::to_string(*wait));
        answer(std::move(r));
        return;
      }
    }
    auto authorization = request->headers.Get("authorization");
    auto key = api_keys_->Authenticate(authorization.value_or(""));
    if (!key.ok()) {
      if (key.status().code() == StatusCode::kUnauthenticated) {
        log::Info("admin request refused", {{"path", request->path},
                                            {"remote", request->remote_address},
                                            {"reason", key.status().message()}});
        if (limiter_ != nullptr && authorization && !authorization->empty()) {
          limiter_->RecordFailure(request->remote_address);
        }
      }
      answer(ErrorResponse(key.status()));
      return;
    }
    bool changes = request->method != "GET" && request->method != "HEAD";
    if (changes && key->scope != kAdminScope) {
      net::Response r = net::Response::JsonError(
          403, "read_only_key",
          "API key '" + key->name + "' is read-only (scope \"" + key->scope + "\"); " +
              request->method + " needs an admin key");
      if (audit_ != nullptr) Audit(*request, *key, metrics_route->pattern, r);
      answer(std::move(r));
      return;
    }
    if (changes && audit_ != nullptr) actor = std::move(key).value();
  }
  if (match.route == nullptr) {
    net::Response r;
    if (!match.allowed.empty()) {
      r = net::Response::JsonError(
          405, "method_not_allowed",
          request->method + " is not allowed here; allowed: " + match.allowed);
      r.headers.Add("allow", match.allowed);
    } else {
      r = net::Response::JsonError(404, "not_found", "no route for " + request->path);
    }
    if (actor) Audit(*request, *actor, metrics_route->pattern, r);
    answer(std::move(r));
    return;
  }
  request->path_params = std::move(match.params);
  request->route = match.route->pattern;
  const net::Request& ref = *request;
  if (actor) {
    // An audited admin change: the record is written before the answer leaves, so a client that
    // sees the answer can already read the record. Admin changes are rare; the write is one row.
    match.route->handler(ref, [this, start, route = match.route, actor = std::move(*actor),
                               owned = std::shared_ptr<net::Request>(std::move(request)),
                               respond = std::move(respond)](net::Response response) {
      Audit(*owned, actor, route->pattern, response);
      Record(*route, response.status, start);
      respond(std::move(response));
    });
    return;
  }
  // One wrapper (one allocation): it keeps the request alive until the handler answers, then
  // counts and times the answer.
  match.route->handler(ref, [this, start, route = match.route,
                             owned = std::shared_ptr<net::Request>(std::move(request)),
                             respond = std::move(respond)](net::Response response) {
    Record(*route, response.status, start);
    respond(std::move(response));
  });
}

void Router::Audit(const net::Request& request, const store::ApiKeyRecord& key,
                   std::string_view route, const net::Response& response) {
  store::AuditRecord record;
  record.at = Clock::System().NowUnixSeconds();
  record.actor_id = key.id;
  record.actor = key.name;
  record.remote = request.remote_address;
  record.method = request.method;
  record.path = request.path;
  record.route = std::string(route);
  record.status = response.status;
  if (response.status >= 400) {
    // The admin API's error shape is {"error": {"code": ...}}; keep the code, not the message
    // (a message may quote the request).
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_object() &&
        body["error"].contains("code") && body["error"]["code"].is_string()) {
      record.error = body["error"]["code"].get<std::string>();
    } else {
      record.error = "http_" + std::to_string(response.status);
    }
  }
  Status s = audit_->RecordAudit(record);
  if (!s.ok()) {
    // The change itself has happened; it cannot be undone here. Say so loudly.
    log::Error("audit log write failed", {{"method", record.method},
                                          {"path", record.path},
                                          {"actor", record.actor},
                                          {"status", std::to_string(record.status)},
                                          {"error", s.ToString()}});
  }
}

}  // namespace mdmgw::gateway

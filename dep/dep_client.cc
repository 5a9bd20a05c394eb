#include "dep/dep_client.h"

#include <charconv>

#include "common/log.h"
#include "dep/dep_error.h"

namespace mdmgw::dep {
namespace {

constexpr char kJsonType[] = "application/json;charset=UTF8";

std::string KindReason(DepErrorKind kind) {
  switch (kind) {
    case DepErrorKind::kNone:
      return "ok";
    case DepErrorKind::kCursorExhausted:
      return "cursor_exhausted";
    case DepErrorKind::kCursorReset:
      return "cursor_reset";
    case DepErrorKind::kCursorRequired:
      return "cursor_required";
    case DepErrorKind::kTermsNotSigned:
      return "terms_not_signed";
    case DepErrorKind::kAccessDenied:
      return "access_denied";
    case DepErrorKind::kSessionExpired:
      return "session_rejected";
    case DepErrorKind::kThrottled:
      return "throttled";
    case DepErrorKind::kServerError:
      return "server_error";
    case DepErrorKind::kBadRequest:
      return "bad_request";
  }
  return "bad_request";
}

Status ErrorFor(const net::ClientResponse& r, const std::string& what) {
  DepErrorKind kind = ClassifyDepError(r.status, r.body);
  std::string body = r.body.substr(0, 200);
  std::string msg =
      what + ": Apple answered " + std::to_string(r.status) + (body.empty() ? "" : " " + body);
  switch (kind) {
    case DepErrorKind::kTermsNotSigned:
      msg += " (an administrator must accept the new terms in Apple Business Manager)";
      return Status::PermissionDenied(msg, KindReason(kind));
    case DepErrorKind::kAccessDenied:
    case DepErrorKind::kSessionExpired:
      return Status::PermissionDenied(msg, KindReason(kind));
    case DepErrorKind::kThrottled:
    case DepErrorKind::kServerError:
      return Status::Unavailable(msg, KindReason(kind));
    default:
      return Status::InvalidArgument(msg, KindReason(kind));
  }
}

}  // namespace

DepClient::DepClient(net::H1Client& http, std::string base_url, OAuth1Credentials credentials,
                     Clock& clock)
    : http_(http),
      base_url_(std::move(base_url)),
      credentials_(std::move(credentials)),
      clock_(clock) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Status DepClient::StartSession() {
  net::ClientRequest req;
  req.method = "GET";
  req.url = base_url_ + "/session";
  req.timeout = timeout_;
  req.headers.Add("authorization",
                  OAuth1AuthorizationHeader("GET", req.url, credentials_, clock_.NowUnixSeconds()));
  req.headers.Add("x-server-protocol-version", std::to_string(kProtocolVersion));
  req.headers.Add("content-type", kJsonType);
  req.headers.Add("accept", kJsonType);
  auto resp = http_.SendSync(std::move(req));
  if (!resp.ok()) return resp.status().WithContext("DEP /session");
  if (resp->status != 200) return ErrorFor(*resp, "DEP /session");
  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  if (!doc.is_object() || !doc.contains("auth_session_token") ||
      !doc["auth_session_token"].is_string()) {
    return Status::Unavailable("DEP /session: no auth_session_token in the answer", "bad_answer");
  }
  session_ = doc["auth_session_token"].get<std::string>();
  ++sessions_started_;
  return Status::Ok();
}

Result<net::ClientResponse> DepClient::Send(const std::string& method, const std::string& path,
                                            const std::string& body) {
  net::ClientRequest req;
  req.method = method;
  req.url = base_url_ + path;
  req.timeout = timeout_;
  req.headers.Add("x-adm-auth-session", session_);
  req.headers.Add("x-server-protocol-version", std::to_string(kProtocolVersion));
  req.headers.Add("content-type", kJsonType);
  req.headers.Add("accept", kJsonType);
  req.body = body;
  auto resp = http_.SendSync(std::move(req));
  if (!resp.ok()) return resp.status();
  // Apple may rotate the session on any answer; keep the newest.
  if (auto fresh = resp->headers.Get("x-adm-auth-session"); fresh && !fresh->empty()) {
    session_ = std::string(*fresh);
  }
  return resp;
}

Result<nlohmann::json> DepClient::Call(const std::string& method, const std::string& path,
                                       const nlohmann::json* body) {
  std::lock_guard lock(mu_);
  retry_after_seconds_ = 0;
  last_http_status_ = 0;
  std::string payload = body != nullptr ? body->dump() : "";
  if (session_.empty()) MDMGW_RETURN_IF_ERROR(StartSession());
  auto resp = Send(method, path, payload);
  if (!resp.ok()) return resp.status().WithContext("DEP " + path);
  if (ClassifyDepError(resp->status, resp->body) == DepErrorKind::kSessionExpired) {
    // Sessions are short-lived: authenticate once more and replay the same bytes.
    session_.clear();
    MDMGW_RETURN_IF_ERROR(StartSession());
    resp = Send(method, path, payload);
    if (!resp.ok()) return resp.status().WithContext("DEP " + path);
  }
  last_http_status_ = resp->status;
  if (resp->status < 200 || resp->status >= 300) {
    if (resp->status == 429 || resp->status == 503) {
      if (auto ra = resp->headers.Get("retry-after")) {
        int64_t seconds = 0;
        auto [p, ec] = std::from_chars(ra->data(), ra->data() + ra->size(), seconds);
        if (ec == std::errc()) retry_after_seconds_ = seconds;
      }
    }
    return ErrorFor(*resp, "DEP " + method + " " + path);
  }
  if (resp->body.empty()) return nlohmann::json::object();
  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  if (doc.is_discarded()) {
    return Status::Unavailable("DEP " + path + ": the answer is not JSON", "bad_answer");
  }
  return doc;
}

namespace {

DepSerialResults SerialResultsOf(const nlohmann::json& doc) {
  DepSerialResults r;
  r.profile_uuid = doc.value("profile_uuid", std::string());
  if (auto it = doc.find("devices"); it != doc.end() && it->is_object()) {
    for (const auto& [serial, status] : it->items()) {
      r.devices[serial] = status.is_string() ? status.get<std::string>() : "FAILED";
    }
  }
  if (auto it = doc.find("retry_after_seconds"); it != doc.end() && it->is_number_integer()) {
    r.retry_after_seconds = it->get<int64_t>();
  }
  return r;
}

Status CheckSerials(const std::vector<std::string>& serials) {
  if (serials.empty()) return Status::InvalidArgument("no serial numbers given", "bad_request");
  if (serials.size() > DepClient::kMaxSerialsPerCall) {
    return Status::InvalidArgument("at most 1000 serial numbers per call to Apple",
                                   "too_many_serials");
  }
  return Status::Ok();
}

}  // namespace

Result<DepSerialResults> DepClient::SerialCall(const std::string& method, const std::string& path,
                                               const std::vector<std::string>& serials,
                                               const std::string& profile_uuid) {
  MDMGW_RETURN_IF_ERROR(CheckSerials(serials));
  nlohmann::json body = {{"devices", serials}};
  if (!profile_uuid.empty()) body["profile_uuid"] = profile_uuid;
  auto doc = Call(method, path, &body);
  if (!doc.ok()) return doc.status();
  return SerialResultsOf(*doc);
}

Result<nlohmann::json> DepClient::DeviceDetails(const std::vector<std::string>& serials) {
  MDMGW_RETURN_IF_ERROR(CheckSerials(serials));
  nlohmann::json body = {{"devices", serials}};
  auto doc = Call("POST", "/devices", &body);
  if (!doc.ok()) return doc.status();
  auto it = doc->find("devices");
  return it != doc->end() && it->is_object() ? *it : nlohmann::json::object();
}

Result<DepSerialResults> DepClient::DefineProfile(const nlohmann::json& profile) {
  auto doc = Call("POST", "/profile", &profile);
  if (!doc.ok()) return doc.status();
  DepSerialResults r = SerialResultsOf(*doc);
  if (r.profile_uuid.empty()) {
    return Status::Unavailable("DEP POST /profile: no profile_uuid in the answer", "bad_answer");
  }
  return r;
}

Result<nlohmann::json> DepClient::GetProfile(const std::string& profile_uuid) {
  auto doc = Call("GET", "/profile?profile_uuid=" + profile_uuid);
  if (!doc.ok()) return doc.status();
  return *doc;
}

Result<DepSerialResults> DepClient::AssignProfile(const std::string& profile_uuid,
                                                  const std::vector<std::string>& serials) {
  auto r = SerialCall("POST", "/profile/devices", serials, profile_uuid);
  // Apple documents POST today; older servers (and NanoDEP's depsim) took PUT only.
  if (!r.ok() && last_http_status() == 405) {
    r = SerialCall("PUT", "/profile/devices", serials, profile_uuid);
  }
  return r;
}

Result<DepSerialResults> DepClient::RemoveProfile(const std::vector<std::string>& serials) {
  return SerialCall("DELETE", "/profile/devices", serials, "");
}

Result<DepSerialResults> DepClient::Disown(const std::vector<std::string>& serials) {
  return SerialCall("POST", "/devices/disown", serials, "");
}

Result<DepAccount> DepClient::Account() {
  auto doc = Call("GET", "/account");
  if (!doc.ok()) return doc.status();
  DepAccount a;
  a.raw = *doc;
  a.server_name = doc->value("server_name", std::string());
  a.server_uuid = doc->value("server_uuid", std::string());
  a.org_name = doc->value("org_name", std::string());
  a.admin_id = doc->value("admin_id", doc->value("facilitator_id", std::string()));
  if (doc->contains("urls") && (*doc)["urls"].is_array()) {
    for (const auto& u : (*doc)["urls"]) {
      if (u.value("uri", std::string()) != "/server/devices" || !u.contains("limit")) continue;
      const auto& limit = u["limit"];
      if (limit.contains("default") && limit["default"].is_number_integer())
        a.fetch_limit_default = limit["default"].get<int>();
      if (limit.contains("maximum") && limit["maximum"].is_number_integer())
        a.fetch_limit_maximum = limit["maximum"].get<int>();
    }
  }
  return a;
}

}  // namespace mdmgw::dep

#include "gateway/handlers/push_api.h"

#include <algorithm>

#include "apns/apns_client.h"
#include "common/clock.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

constexpr uint64_t kPushBodyLimit = 4 << 20;  // 50,000 ids of ~60 bytes

Status Bad(std::string msg) { return Status::InvalidArgument(std::move(msg), "bad_request"); }

nlohmann::json DeviceJson(const store::EnrollmentRecord& r) {
  nlohmann::json push = {
      {"token_present", !r.push_token_hex.empty()},
      // A prefix is enough to tell tokens apart; the whole token stays private.
      {"token_prefix", r.push_token_hex.substr(0, 8)},
      {"push_magic_present", !r.push_magic.empty()},
      {"token_updated_at_ms", r.token_updated_at_ms},
      {"token_invalid_at_ms",
       r.token_invalid_at_ms ? nlohmann::json(*r.token_invalid_at_ms) : nlohmann::json(nullptr)}};
  return {{"id", r.id},
          {"device_id", r.device_id},
          {"type", r.type},
          {"status", r.status},
          {"topic", r.topic},
          {"serial", r.serial},
          {"model", r.model},
          {"os_version", r.os_version},
          {"device_name", r.device_name},
          {"user", r.user_id.empty()
                       ? nlohmann::json(nullptr)
                       : nlohmann::json{{"id", r.user_id}, {"short_name", r.user_short_name}}},
          {"enrollment_method", r.enrollment_method},
          {"dep_server", r.dep_server},
          {"awaiting_configuration", r.awaiting_configuration},
          {"unlock_token_present", r.sealed_unlock_token.has_value()},
          {"last_seen_at", r.last_seen_at},
          {"push", push},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

void RunPush(apns::PushService& pushes, std::vector<std::string> ids, bool nanomdm_form,
             net::Respond respond) {
  pushes.Push(std::move(ids), [nanomdm_form, respond = std::move(respond)](
                                  std::vector<apns::EnrollmentPushResult> results) {
    size_t delivered = 0;
    for (const auto& r : results) delivered += r.delivered;
    if (nanomdm_form) {
      nlohmann::json status = nlohmann::json::object();
      for (const auto& r : results) {
        status[r.id] = r.delivered
                           ? nlohmann::json{{"push_result", r.apns_id}}
                           : nlohmann::json{{"push_error", r.error_code + ": " + r.message}};
      }
      return respond(net::Response::Json(200, {{"status", status}}));
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json item = {{"enrollment_id", r.id}, {"delivered", r.delivered}};
      if (!r.apns_id.empty()) item["apns_id"] = r.apns_id;
      if (!r.delivered) {
        item["error"] = {{"code", r.error_code},
                         {"message", r.message},
                         {"retryable", r.outcome == apns::PushOutcome::kRetry}};
      }
      list.push_back(std::move(item));
    }
    respond(net::Response::Json(
        200,
        {{"results", list}, {"delivered", delivered}, {"failed", results.size() - delivered}}));
  });
}

Result<std::vector<std::string>> SplitIds(std::string_view raw) {
  auto decoded = net::PercentDecode(raw, false);
  if (!decoded) return Bad("bad percent-encoding in the id list");
  std::vector<std::string> ids;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view id = rest.substr(0, comma);
    if (!id.empty()) ids.emplace_back(id);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (ids.empty()) return Bad("no enrollment ids given");
  return ids;
}

}  // namespace

void AddPushRoutes(Router& router, apns::PushService& pushes, store::EnrollmentStore& enrollments) {
  RouteOptions big;
  big.max_body_bytes = kPushBodyLimit;
  big.admin = true;
  router.Add(
      "POST", "/api/v1/push",
      [&pushes](const net::Request& request, net::Respond respond) {
        auto doc = nlohmann::json::parse(request.body, nullptr, false);
        if (!doc.is_object() || !doc.contains("enrollment_ids") ||
            !doc["enrollment_ids"].is_array()) {
          return respond(ErrorResponse(Bad("expected {\"enrollment_ids\": [\"id\", ...]}")));
        }
        std::vector<std::string> ids;
        for (const auto& v : doc["enrollment_ids"]) {
          if (!v.is_string() || v.get<std::string>().empty())
            return respond(ErrorResponse(Bad("every enrollment id must be a non-empty string")));
          ids.push_back(v.get<std::string>());
        }
        if (ids.empty()) return respond(ErrorResponse(Bad("enrollment_ids is empty")));
        if (ids.size() > apns::PushService::kMaxIdsPerCall) {
          return respond(ErrorResponse(Status::TooLarge(
              "at most " + std::to_string(apns::PushService::kMaxIdsPerCall) + " ids per call")));
        }
        RunPush(pushes, std::move(ids), false, std::move(respond));
      },
      big);
  auto nano = [&pushes](const net::Request& request, net::Respond respond) {
    auto ids = SplitIds(request.PathParam("ids").value_or(""));
    if (!ids.ok()) return respond(ErrorResponse(ids.status()));
    if (ids->size() > apns::PushService::kMaxIdsPerCall)
      return respond(ErrorResponse(Status::TooLarge("too many ids")));
    RunPush(pushes, std::move(ids).value(), true, std::move(respond));
  };
  RouteOptions admin;
  admin.admin = true;
  router.Add("GET", "/v1/push/{ids}", nano, admin);
  router.Add("POST", "/v1/push/{ids}", nano, admin);

  router.Add(
      "GET", "/api/v1/devices", [&enrollments](const net::Request& request, net::Respond respond) {
        int limit = 100;
        if (auto l = request.QueryParam("limit")) {
          limit = std::atoi(l->c_str());
          if (limit < 1 || limit > 1000)
            return respond(ErrorResponse(Bad("limit must be between 1 and 1000")));
        }
        auto list = enrollments.ListEnrollments(request.QueryParam("after").value_or(""), limit);
        if (!list.ok()) return respond(ErrorResponse(list.status()));
        nlohmann::json items = nlohmann::json::array();
        for (const auto& r : *list) items.push_back(DeviceJson(r));
        nlohmann::json body = {{"devices", items}};
        if (static_cast<int>(list->size()) == limit) body["next_after"] = list->back().id;
        respond(net::Response::Json(200, body));
      });
  router.Add("GET", "/api/v1/devices/{id}",
             [&enrollments](const net::Request& request, net::Respond respond) {
               auto id = net::PercentDecode(request.PathParam("id").value_or(""), false);
               auto r = enrollments.GetEnrollment(id.value_or(""));
               if (!r.ok()) return respond(ErrorResponse(r.status()));
               respond(net::Response::Json(200, DeviceJson(*r)));
             });
  router.Add(
      "PUT", "/api/v1/devices/{id}",
      [&enrollments](const net::Request& request, net::Respond respond) {
        auto id = net::PercentDecode(request.PathParam("id").value_or(""), false);
        if (!id || id->empty()) return respond(ErrorResponse(Bad("bad enrollment id")));
        auto doc = nlohmann::json::parse(request.body, nullptr, false);
        if (!doc.is_object()) return respond(ErrorResponse(Bad("the body must be a JSON object")));
        store::EnrollmentRecord r;
        try {
          r.id = *id;
          r.device_id = doc.value("device_id", *id);
          r.type = doc.value("type", std::string("Device"));
          r.topic = doc.value("topic", std::string());
          r.push_token_hex = doc.value("push_token_hex", std::string());
          r.push_magic = doc.value("push_magic", std::string());
        } catch (const nlohmann::json::exception&) {
          return respond(ErrorResponse(Bad("fields must be strings")));
        }
        std::transform(r.push_token_hex.begin(), r.push_token_hex.end(), r.push_token_hex.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!apns::IsValidDeviceToken(r.push_token_hex))
          return respond(ErrorResponse(Bad("push_token_hex must be the device token in hex")));
        if (r.push_magic.empty()) return respond(ErrorResponse(Bad("push_magic is required")));
        if (r.topic.rfind("com.apple.mgmt.", 0) != 0)
          return respond(ErrorResponse(Bad("topic must be the MDM topic (com.apple.mgmt.…)")));
        auto now = Clock::System().Now();
        r.token_updated_at_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        auto existing = enrollments.GetEnrollment(r.id);
        r.updated_at = Clock::System().NowUnixSeconds();
        r.created_at = existing.ok() ? existing->created_at : r.updated_at;
        Status s = enrollments.PutEnrollment(r);
        if (!s.ok()) return respond(ErrorResponse(s));
        auto stored = enrollments.GetEnrollment(r.id);
        if (!stored.ok()) return respond(ErrorResponse(stored.status()));
        respond(net::Response::Json(existing.ok() ? 200 : 201, DeviceJson(*stored)));
      });
}

}  // namespace mdmgw::gateway

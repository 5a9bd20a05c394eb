#include "gateway/checkin_service.h"

#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"
#include "common/seal_contexts.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

// NanoMDM's enrollment type names, so both sides label channels alike.
std::string EnrollmentType(const ChannelKeys& c) {
  bool user_enrollment = c.udid.empty() && !c.enrollment_id.empty();
  if (c.IsUserChannel()) return user_enrollment ? "User Enrollment" : "User";
  return user_enrollment ? "User Enrollment (Device)" : "Device";
}

std::string NewRequestId() { return HexEncode(RandomBytes(12)); }

// The device-facing refusal: status + JSON error body; 503 carries Retry-After.
net::Response DeviceError(const Status& s, int retry_after_seconds) {
  int http = HttpStatusFor(s.code());
  if (http == 500 || http == 504) http = 503;
  std::string message = http == 503 ? "temporarily unavailable; retry later" : s.message();
  net::Response r =
      net::Response::JsonError(http, s.reason().empty() ? "error" : s.reason(), message);
  if (http == 503) r.headers.Set("retry-after", std::to_string(retry_after_seconds));
  return r;
}

}  // namespace

CheckInService::CheckInService(store::EnrollmentStore& enrollments, const SecretBox& secrets,
                               const DeviceIdentityVerifier& identities, Routing& routing,
                               UpstreamForwarder& forwarder, const Clock& clock, PlistLimits limits,
                               metrics::Registry* registry)
    : enrollments_(enrollments),
      secrets_(secrets),
      identities_(identities),
      routing_(routing),
      forwarder_(forwarder),
      clock_(clock),
      limits_(limits) {
  if (registry == nullptr) {
    own_registry_ = std::make_unique<metrics::Registry>();
    registry = own_registry_.get();
  }
  messages_ = &registry->AddCounter("mdmgw_checkin_messages_total",
                                    "Device check-in and command messages accepted, by type",
                                    {"message_type"});
  refused_ = &registry->AddCounter("mdmgw_checkin_refused_total",
                                   "Device requests refused at the edge, by reason", {"reason"});
}

void CheckInService::SetPushTopic(std::string topic) {
  std::lock_guard lock(topic_mu_);
  push_topic_ = std::move(topic);
}

std::string CheckInService::PushTopic() const {
  std::lock_guard lock(topic_mu_);
  return push_topic_;
}

void CheckInService::Refuse(const Status& status, const char* route, net::Respond& respond) {
  refused_->WithLabels({status.reason().empty() ? "other" : status.reason()}).Inc();
  int http = HttpStatusFor(status.code());
  if (http >= 500) {
    log::Error("device request failed", {{"route", route}, {"error", status.ToString()}});
  } else {
    log::Info("device request refused", {{"route", route},
                                         {"status", http},
                                         {"reason", status.reason()},
                                         {"message", status.message()}});
  }
  respond(DeviceError(status, 30));
}

void CheckInService::RememberBinding(const std::string& device_id, const std::string& sha256) {
  std::lock_guard lock(bound_mu_);
  if (bound_.size() >= 200000) bound_.clear();
  bound_[device_id] = {sha256, clock_.NowUnixSeconds()};
}

Status CheckInService::CheckBinding(const std::string& device_id, const DeviceIdentity& identity,
                                    bool rebind) {
  int64_t now = clock_.NowUnixSeconds();
  store::DeviceIdentityRecord record{device_id, identity.sha256_hex, identity.not_after, now};
  if (rebind) return Status::Ok();  // Authenticate binds, in its recording transaction
  {
    std::lock_guard lock(bound_mu_);
    auto it = bound_.find(device_id);
    if (it != bound_.end() && it->second.sha256 == identity.sha256_hex &&
        now - it->second.at < 60) {
      return Status::Ok();
    }
  }
  auto bound = enrollments_.GetDeviceIdentity(device_id);
  if (bound.ok()) {
    if (bound->cert_sha256 == identity.sha256_hex) {
      RememberBinding(device_id, identity.sha256_hex);
      return Status::Ok();
    }
    return Status::PermissionDenied(
        "this device enrolled with another identity certificate; reinstall the enrollment "
        "profile to bind a new one",
        "identity_mismatch");
  }
  if (!bound.status().IsNotFound()) return bound.status();
  // A device first seen here (enrolled before the gateway fronted its core): the verified
  // certificate it presents now becomes its binding.
  log::Info("device identity bound at first check-in",
            {{"device_id", device_id}, {"cert_sha256", identity.sha256_hex}});
  Status put = enrollments_.PutDeviceIdentity(record);
  if (put.ok()) RememberBinding(device_id, identity.sha256_hex);
  return put;
}

void CheckInService::HandleCheckIn(const net::Request& request, net::Respond respond) {
  auto identity = identities_.Verify(request);
  if (!identity.ok()) return Refuse(identity.status(), "checkin", respond);
  auto parsed = ParseCheckIn(request.body, limits_);
  if (!parsed.ok()) return Refuse(parsed.status(), "checkin", respond);
  const CheckInMessage& m = *parsed;
  const std::string device_id = m.channel.DeviceId();
  const std::string channel_id = m.channel.ChannelId();
  bool is_auth = m.type == CheckInType::kAuthenticate;
  Status bound = CheckBinding(device_id, *identity, is_auth);
  if (!bound.ok()) return Refuse(bound, "checkin", respond);

  if (m.type == CheckInType::kAuthenticate || m.type == CheckInType::kTokenUpdate ||
      m.type == CheckInType::kCheckOut) {
    std::string topic = PushTopic();
    if (!topic.empty() && m.topic != topic) {
      return Refuse(Status::PermissionDenied(
                        "Topic " + m.topic.substr(0, 200) + " is not this gateway's push topic",
                        "topic_mismatch"),
                    "checkin", respond);
    }
  }

  int64_t now = clock_.NowUnixSeconds();
  Status recorded = Status::Ok();
  switch (m.type) {
    case CheckInType::kAuthenticate: {
      store::EnrollmentRecord r;
      r.id = device_id;  // Authenticate is the device channel's
      r.device_id = device_id;
      r.type = EnrollmentType(ChannelKeys{m.channel.udid, m.channel.enrollment_id, "", "", "", ""});
      r.topic = m.topic;
      r.serial = m.serial_number;
      r.model = !m.product_name.empty() ? m.product_name : m.model;
      r.os_version = m.os_version;
      r.device_name = m.device_name;
      r.created_at = r.updated_at = now;
      recorded = enrollments_.RecordAuthenticate(
          r, {device_id, identity->sha256_hex, identity->not_after, now});
      if (recorded.ok()) RememberBinding(device_id, identity->sha256_hex);
      break;
    }
    case CheckInType::kTokenUpdate: {
      store::EnrollmentRecord r;
      r.id = channel_id;
      r.device_id = device_id;
      r.type = EnrollmentType(m.channel);
      r.topic = m.topic;
      r.push_token_hex = HexEncode(m.token);
      r.push_magic = m.push_magic;
      r.token_updated_at_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
              .count();
      r.user_id = !m.channel.user_id.empty() ? m.channel.user_id : m.channel.enrollment_user_id;
      r.user_short_name = m.channel.user_short_name;
      r.awaiting_configuration = m.awaiting_configuration;
      if (m.unlock_token && !m.unlock_token->empty()) {
        r.sealed_unlock_token =
            secrets_.Seal(*m.unlock_token, seal_context::UnlockToken(device_id));
      }
      r.created_at = r.updated_at = now;
      recorded = enrollments_.RecordTokenUpdate(r);
      break;
    }
    case CheckInType::kCheckOut:
      recorded = enrollments_.RecordCheckOut(channel_id, now);
      break;
    default:
      recorded = enrollments_.TouchEnrollment(channel_id, now);
      break;
  }
  if (!recorded.ok()) {
    return Refuse(
        Status::Unavailable("recording the check-in: " + recorded.message(), "store_unavailable"),
        "checkin", respond);
  }
  messages_->WithLabels({m.message_type}).Inc();

  auto target = routing_.Resolve(device_id, m.serial_number);
  if (!target.ok()) return Refuse(target.status(), "checkin", respond);
  forwarder_.Forward(*target, target->CheckInUrl(), request, *identity, NewRequestId(),
                     std::move(respond));
}

void CheckInService::HandleConnect(const net::Request& request, net::Respond respond) {
  auto identity = identities_.Verify(request);
  if (!identity.ok()) return Refuse(identity.status(), "connect", respond);
  auto parsed = ParseCommandReport(request.body, limits_);
  if (!parsed.ok()) return Refuse(parsed.status(), "connect", respond);
  const std::string device_id = parsed->channel.DeviceId();
  Status bound = CheckBinding(device_id, *identity, false);
  if (!bound.ok()) return Refuse(bound, "connect", respond);
  Status touched =
      enrollments_.TouchEnrollment(parsed->channel.ChannelId(), clock_.NowUnixSeconds());
  if (!touched.ok()) {
    return Refuse(
        Status::Unavailable("recording the report: " + touched.message(), "store_unavailable"),
        "connect", respond);
  }
  messages_->WithLabels({"Command:" + parsed->status}).Inc();
  auto target = routing_.Resolve(device_id, "");
  if (!target.ok()) return Refuse(target.status(), "connect", respond);
  forwarder_.Forward(*target, target->url, request, *identity, NewRequestId(), std::move(respond));
}

}  // namespace mdmgw::gateway

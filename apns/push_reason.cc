#include "apns/push_reason.h"

namespace mdmgw::apns {

PushOutcome ClassifyApnsReply(int status, std::string_view reason) {
  if (status == 200) return PushOutcome::kDelivered;
  if (status == 410) return PushOutcome::kTokenUnregistered;
  if (status == 429 || status >= 500) return PushOutcome::kRetry;
  if (reason == "IdleTimeout" || reason == "Shutdown" || reason == "ServiceUnavailable") {
    return PushOutcome::kRetry;
  }
  if (reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic")
    return PushOutcome::kDeviceInvalid;
  if (status == 403 || reason == "TopicDisallowed" || reason == "BadTopic" ||
      reason == "BadCertificate" || reason == "BadCertificateEnvironment") {
    return PushOutcome::kCertificateProblem;
  }
  return PushOutcome::kRequestRejected;
}

std::string_view PushOutcomeName(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::kDelivered:
      return "delivered";
    case PushOutcome::kRetry:
      return "retry";
    case PushOutcome::kTokenUnregistered:
      return "token_unregistered";
    case PushOutcome::kDeviceInvalid:
      return "device_invalid";
    case PushOutcome::kCertificateProblem:
      return "certificate_problem";
    case PushOutcome::kRequestRejected:
      return "request_rejected";
  }
  return "unknown";
}

}  // namespace mdmgw::apns

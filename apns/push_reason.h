// apns: the MDM push certificate, the HTTP/2 client pool to APNs and the push service (issue 3).
// This file: what each APNs answer means for the gateway (PROTOCOLS.md §1, "Status codes and
// reasons"), so the push service, retries and metrics all classify replies the same way.
#pragma once

#include <string_view>

namespace mdmgw::apns {

enum class PushOutcome {
  kDelivered,  // 200
  kRetry,  // 429 TooManyRequests, 5xx, IdleTimeout, Shutdown: retry with backoff on a new stream
  kTokenUnregistered,   // 410 Unregistered/ExpiredToken: the device token is stale
  kDeviceInvalid,       // 400 BadDeviceToken/DeviceTokenNotForTopic: permanent for this device
  kCertificateProblem,  // 403 BadCertificate*, TopicDisallowed/BadTopic: stop and alert the admin
  kRequestRejected,     // any other 4xx: our request is wrong; do not retry
};

// Classifies an APNs reply by HTTP status and the "reason" of its JSON body (may be empty).
PushOutcome ClassifyApnsReply(int status, std::string_view reason);

std::string_view PushOutcomeName(PushOutcome outcome);

}  // namespace mdmgw::apns

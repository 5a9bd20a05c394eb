// The first pieces of the apns, dep and configurator modules (their issues build on them).
#include <gtest/gtest.h>

#include "apns/push_reason.h"
#include "configurator/enrollment_methods.h"
#include "dep/dep_error.h"

namespace mdmgw {
namespace {

TEST(PushReasonTest, ClassifiesApnsReplies) {
  using apns::PushOutcome;
  EXPECT_EQ(apns::ClassifyApnsReply(200, ""), PushOutcome::kDelivered);
  EXPECT_EQ(apns::ClassifyApnsReply(410, "Unregistered"), PushOutcome::kTokenUnregistered);
  EXPECT_EQ(apns::ClassifyApnsReply(400, "BadDeviceToken"), PushOutcome::kDeviceInvalid);
  EXPECT_EQ(apns::ClassifyApnsReply(400, "DeviceTokenNotForTopic"), PushOutcome::kDeviceInvalid);
  EXPECT_EQ(apns::ClassifyApnsReply(403, "BadCertificate"), PushOutcome::kCertificateProblem);
  EXPECT_EQ(apns::ClassifyApnsReply(400, "TopicDisallowed"), PushOutcome::kCertificateProblem);
  EXPECT_EQ(apns::ClassifyApnsReply(429, "TooManyRequests"), PushOutcome::kRetry);
  EXPECT_EQ(apns::ClassifyApnsReply(503, "ServiceUnavailable"), PushOutcome::kRetry);
  EXPECT_EQ(apns::ClassifyApnsReply(400, "IdleTimeout"), PushOutcome::kRetry);
  EXPECT_EQ(apns::ClassifyApnsReply(400, "BadPriority"), PushOutcome::kRequestRejected);
  EXPECT_EQ(apns::PushOutcomeName(PushOutcome::kRetry), "retry");
}

TEST(DepErrorTest, ClassifiesBodiesInEveryShape) {
  using dep::DepErrorKind;
  EXPECT_EQ(dep::ClassifyDepError(400, "EXHAUSTED_CURSOR"), DepErrorKind::kCursorExhausted);
  EXPECT_EQ(dep::ClassifyDepError(400, "\"INVALID_CURSOR\""), DepErrorKind::kCursorReset);
  EXPECT_EQ(dep::ClassifyDepError(400, "EXPIRED_CURSOR"), DepErrorKind::kCursorReset);
  EXPECT_EQ(dep::ClassifyDepError(403, "{\"code\":\"T_C_NOT_SIGNED\"}"),
            DepErrorKind::kTermsNotSigned);
  EXPECT_EQ(dep::ClassifyDepError(403, "FORBIDDEN"), DepErrorKind::kSessionExpired);
  EXPECT_EQ(dep::ClassifyDepError(401, "UNAUTHORIZED"), DepErrorKind::kSessionExpired);
  EXPECT_EQ(dep::ClassifyDepError(429, ""), DepErrorKind::kThrottled);
  EXPECT_EQ(dep::ClassifyDepError(502, ""), DepErrorKind::kServerError);
  EXPECT_EQ(dep::ClassifyDepError(200, ""), DepErrorKind::kNone);
}

}  // namespace
}  // namespace mdmgw

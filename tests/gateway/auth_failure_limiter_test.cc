#include "gateway/auth_failure_limiter.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace mdmgw::gateway {
namespace {

using namespace std::chrono_literals;

TEST(AuthFailureLimiterTest, BlocksAnAddressAfterTheLimitUntilTheWindowEnds) {
  testing::FakeClock clock;
  AuthFailureLimiter limiter(clock, {3, 60s, 100});
  for (int i = 0; i < 2; ++i) limiter.RecordFailure("10.0.0.1:4000");
  EXPECT_FALSE(limiter.Blocked("10.0.0.1:4000")) << "two failures are under the limit";
  clock.Advance(10s);
  limiter.RecordFailure("10.0.0.1:4001");
  auto wait = limiter.Blocked("10.0.0.1:5999");
  ASSERT_TRUE(wait) << "the third failure blocks the address, whatever the port";
  EXPECT_EQ(*wait, 50) << "until the window that began with the first failure ends";
  EXPECT_FALSE(limiter.Blocked("10.0.0.2:4000")) << "other addresses are not affected";
  clock.Advance(49s);
  EXPECT_EQ(limiter.Blocked("10.0.0.1:1").value_or(0), 1);
  clock.Advance(1s);
  EXPECT_FALSE(limiter.Blocked("10.0.0.1:1")) << "a new window begins clean";
  limiter.RecordFailure("10.0.0.1:1");
  EXPECT_FALSE(limiter.Blocked("10.0.0.1:1"));
}

TEST(AuthFailureLimiterTest, FailuresSpreadOverWindowsNeverBlock) {
  testing::FakeClock clock;
  AuthFailureLimiter limiter(clock, {3, 60s, 100});
  for (int i = 0; i < 20; ++i) {
    limiter.RecordFailure("192.0.2.7:80");
    EXPECT_FALSE(limiter.Blocked("192.0.2.7:80")) << "failure " << i;
    clock.Advance(31s);  // at most two failures fall in any one window
  }
}

TEST(AuthFailureLimiterTest, HostOfDropsOnlyANumericPort) {
  EXPECT_EQ(AuthFailureLimiter::HostOf("203.0.113.9:5123"), "203.0.113.9");
  EXPECT_EQ(AuthFailureLimiter::HostOf("::1:443"), "::1");
  EXPECT_EQ(AuthFailureLimiter::HostOf("2001:db8::5:61000"), "2001:db8::5");
  EXPECT_EQ(AuthFailureLimiter::HostOf("unix"), "unix");
  EXPECT_EQ(AuthFailureLimiter::HostOf("host:"), "host:");
}

TEST(AuthFailureLimiterTest, RemembersAtMostMaxTrackedAddresses) {
  testing::FakeClock clock;
  AuthFailureLimiter limiter(clock, {2, 60s, 50});
  limiter.RecordFailure("198.51.100.1:1");
  limiter.RecordFailure("198.51.100.1:1");
  ASSERT_TRUE(limiter.Blocked("198.51.100.1:1"));
  clock.Advance(1s);
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("10.1." + std::to_string(i) + ".1:9");
  EXPECT_LE(limiter.tracked(), 50u) << "a spray of addresses cannot grow memory without bound";
  EXPECT_FALSE(limiter.Blocked("198.51.100.1:1")) << "the oldest entry was the one let go";
  clock.Advance(60s);
  limiter.RecordFailure("10.9.9.9:1");
  EXPECT_EQ(limiter.tracked(), 1u) << "expired entries are dropped first when room is needed";
}

}  // namespace
}  // namespace mdmgw::gateway

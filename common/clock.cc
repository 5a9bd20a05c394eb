#include "common/clock.h"

namespace mdmgw {
namespace {

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

Clock& Clock::System() {
  static SystemClock clock;  // trivially destructible state; safe at exit
  return clock;
}

}  // namespace mdmgw

// FakeClock: a Clock tests move by hand.
#pragma once

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace mdmgw::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds = 1'800'000'000) : now_s_(unix_seconds) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(now_s_.load()));
  }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(now_s_.load()));
  }
  void Set(int64_t unix_seconds) { now_s_ = unix_seconds; }
  void Advance(std::chrono::seconds by) { now_s_ += by.count(); }

 private:
  std::atomic<int64_t> now_s_;
};

}  // namespace mdmgw::testing

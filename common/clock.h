// Clock: the one source of time for modules, so tests can use a fake one (leveldb Env, Envoy
// TimeSource).
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace mdmgw {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for stored time stamps and certificate expiry.
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;

  int64_t NowUnixSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  }

  // The process-wide real clock.
  static Clock& System();
};

}  // namespace mdmgw

// CircuitBreaker: stops hammering a dead core MDM. Closed: requests pass, consecutive failures are
// counted; |failure_threshold| in a row opens it. Open: requests are refused at once (the device
// gets 503 + Retry-After) for |open_for|. Then half-open: one request passes as a probe; success
// closes the breaker, failure opens it again.
//
// Thread-safety: all methods thread-safe (one mutex; the critical sections are a few loads).
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace mdmgw::gateway {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(const Clock& clock, int failure_threshold, std::chrono::milliseconds open_for);

  // Whether a request may go now. In half-open, true for exactly one caller until it reports.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  State state() const;
  static const char* Name(State s);

 private:
  const Clock& clock_;
  const int threshold_;
  const std::chrono::milliseconds open_for_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  int64_t opened_at_ms_ = 0;
  bool probe_in_flight_ = false;
};

}  // namespace mdmgw::gateway

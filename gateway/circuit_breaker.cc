#include "gateway/circuit_breaker.h"

namespace mdmgw::gateway {
namespace {
int64_t Ms(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(c.MonotonicNow().time_since_epoch())
      .count();
}
}  // namespace

CircuitBreaker::CircuitBreaker(const Clock& clock, int failure_threshold,
                               std::chrono::milliseconds open_for)
    : clock_(clock), threshold_(failure_threshold), open_for_(open_for) {}

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (Ms(clock_) - opened_at_ms_ < open_for_.count()) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen || ++failures_ >= threshold_) {
    state_ = State::kOpen;
    opened_at_ms_ = Ms(clock_);
    failures_ = 0;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

const char* CircuitBreaker::Name(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "?";
}

}  // namespace mdmgw::gateway

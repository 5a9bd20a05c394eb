// AuthFailureLimiter: slows down API-key guessing. Each client address may fail admin
// authentication |max_failures| times per |window|; after that its admin requests are refused
// with 429 and Retry-After until the window ends, whether or not the next key is right (so a
// guesser learns nothing from a hit while blocked). Only requests that presented a key count, so
// a browser's first unauthenticated probe or a misconfigured script without a header does not
// lock anyone out.
//
// Memory is bounded: at most |max_tracked| addresses are remembered; when full, expired entries
// are dropped first, then the oldest.
//
// Thread-safety: thread-safe (one mutex; only admin requests reach it).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace mdmgw::gateway {

struct AuthFailureLimits {
  int max_failures = 20;
  std::chrono::seconds window{60};
  size_t max_tracked = 10000;
};

class AuthFailureLimiter {
 public:
  AuthFailureLimiter(Clock& clock, AuthFailureLimits limits = {})
      : clock_(clock), limits_(limits) {}

  // When |remote| ("host:port" or "host") is blocked: the seconds until it may try again.
  std::optional<int64_t> Blocked(std::string_view remote);
  // Counts one failed authentication from |remote|.
  void RecordFailure(std::string_view remote);
  // The number of addresses currently remembered (for tests and metrics).
  size_t tracked();

  // "203.0.113.9:5123" -> "203.0.113.9", "::1:443" -> "::1"; the port is not part of identity.
  static std::string_view HostOf(std::string_view remote);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point window_start;
    int failures = 0;
  };
  void MakeRoom(std::chrono::steady_clock::time_point now);

  Clock& clock_;
  const AuthFailureLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace mdmgw::gateway

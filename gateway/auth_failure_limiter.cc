#include "gateway/auth_failure_limiter.h"

#include <algorithm>

namespace mdmgw::gateway {

std::string_view AuthFailureLimiter::HostOf(std::string_view remote) {
  size_t colon = remote.rfind(':');
  if (colon == std::string_view::npos) return remote;
  std::string_view port = remote.substr(colon + 1);
  bool numeric = !port.empty() &&
                 std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  return numeric ? remote.substr(0, colon) : remote;
}

std::optional<int64_t> AuthFailureLimiter::Blocked(std::string_view remote) {
  auto now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(HostOf(remote)));
  if (it == entries_.end()) return std::nullopt;
  auto ends = it->second.window_start + limits_.window;
  if (now >= ends) {
    entries_.erase(it);
    return std::nullopt;
  }
  if (it->second.failures < limits_.max_failures) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::seconds>(ends - now).count();
  return std::max<int64_t>(left, 1);
}

void AuthFailureLimiter::RecordFailure(std::string_view remote) {
  auto now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  std::string host(HostOf(remote));
  auto it = entries_.find(host);
  if (it != entries_.end() && now >= it->second.window_start + limits_.window) {
    it->second = Entry{now, 0};
  }
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_tracked) MakeRoom(now);
    it = entries_.emplace(std::move(host), Entry{now, 0}).first;
  }
  ++it->second.failures;
}

void AuthFailureLimiter::MakeRoom(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_,
                [&](const auto& kv) { return now >= kv.second.window_start + limits_.window; });
  if (entries_.size() < limits_.max_tracked) return;
  auto oldest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.window_start < b.second.window_start; });
  entries_.erase(oldest);
}

size_t AuthFailureLimiter::tracked() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mdmgw::gateway

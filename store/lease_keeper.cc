#include "store/lease_keeper.h"

#include <vector>

#include "common/log.h"

namespace mdmgw::store {

HeldLease::HeldLease(LeaseStore& store, std::string name, std::string holder, int64_t token)
    : store_(store),
      fence_{std::move(name), std::move(holder), token},
      renewed_(std::chrono::steady_clock::now()) {}

HeldLease::~HeldLease() {
  if (lost()) return;
  Status s = store_.ReleaseLease(fence_.name, fence_.holder, fence_.token);
  if (!s.ok()) {
    // Not fatal: the lease then ends at its expiry instead.
    log::Warn("lease: release failed; it expires by itself",
              {{"lease", fence_.name}, {"error", s.ToString()}});
  }
}

LeaseKeeper::LeaseKeeper(LeaseStore& store, std::string holder, std::chrono::milliseconds ttl,
                         metrics::Registry* registry)
    : store_(store), holder_(std::move(holder)), ttl_(ttl) {
  if (registry != nullptr) {
    held_gauge_ = &registry
                       ->AddGauge("mdmgw_leases_held",
                                  "Leases this instance holds (run-once work across instances)")
                       .WithLabels({});
    lost_counter_ = &registry
                         ->AddCounter("mdmgw_leases_lost_total",
                                      "Leases lost while held (taken over, or not renewable)")
                         .WithLabels({});
  }
  thread_ = std::thread([this] { Loop(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::shared_ptr<HeldLease>> LeaseKeeper::TryAcquire(const std::string& name,
                                                           std::string* current_holder) {
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(name);
    if (it != held_.end()) {
      if (auto live = it->second.lock(); live && !live->lost()) {
        if (current_holder != nullptr) *current_holder = holder_;
        return std::shared_ptr<HeldLease>();
      }
    }
  }
  auto got = store_.AcquireLease(name, holder_, ttl_.count());
  if (!got.ok()) return got.status();
  if (got->holder != holder_) {
    if (current_holder != nullptr) *current_holder = got->holder;
    return std::shared_ptr<HeldLease>();
  }
  auto lease = std::make_shared<HeldLease>(store_, name, holder_, got->token);
  std::lock_guard lock(mu_);
  held_[name] = lease;
  return lease;
}

void LeaseKeeper::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, ttl_ / 3, [this] { return stopping_; })) {
    lock.unlock();
    RenewAll();
    lock.lock();
  }
}

void LeaseKeeper::RenewAll() {
  std::vector<std::shared_ptr<HeldLease>> live;
  {
    std::lock_guard lock(mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      auto lease = it->second.lock();
      if (!lease || lease->lost()) {
        it = held_.erase(it);
        continue;
      }
      live.push_back(std::move(lease));
      ++it;
    }
  }
  if (held_gauge_ != nullptr) held_gauge_->Set(static_cast<double>(live.size()));
  for (auto& lease : live) {
    Status s = store_.RenewLease(lease->name(), holder_, lease->token(), ttl_.count());
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (s.ok()) {
      lease->renewed_ = now;
      continue;
    }
    bool taken = s.reason() == "lease_lost";
    if (!taken && now - lease->renewed_ < ttl_) continue;  // try again next round
    lease->lost_.store(true, std::memory_order_release);
    if (lost_counter_ != nullptr) lost_counter_->Inc();
    log::Warn(taken ? "lease: another instance took it over; the work under it stops"
                    : "lease: not renewed for a whole TTL (store unreachable); the work under "
                      "it stops",
              {{"lease", lease->name()}, {"error", s.ToString()}});
  }
  // |live| may hold the last reference to a lease whose work just ended: released here.
}

}  // namespace mdmgw::store

// LeaseKeeper: takes leases (store/lease_store.h) for this instance and keeps them: a thread
// renews every held lease each third of its TTL, so a lease outlives its holder by at most one TTL
// and another instance can take over within TTL + its own polling interval.
//
// A HeldLease is shared: dropping the last reference releases it at once (another instance need
// not wait for the expiry). A lease is marked lost() when a renewal finds it taken over, or when no
// renewal has succeeded for a whole TTL (the database is unreachable, so another instance may take
// it as soon as it can reach it); work under a lost lease must stop, and its writes fail the fence.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "store/lease_store.h"

namespace mdmgw::store {

class HeldLease {
 public:
  HeldLease(LeaseStore& store, std::string name, std::string holder, int64_t token);
  ~HeldLease();  // releases the lease
  HeldLease(const HeldLease&) = delete;
  HeldLease& operator=(const HeldLease&) = delete;

  const std::string& name() const { return fence_.name; }
  int64_t token() const { return fence_.token; }
  // What writes under this lease check inside their transaction.
  const LeaseFence& fence() const { return fence_; }
  bool lost() const { return lost_.load(std::memory_order_acquire); }

 private:
  friend class LeaseKeeper;
  LeaseStore& store_;
  const LeaseFence fence_;
  std::atomic<bool> lost_{false};
  std::chrono::steady_clock::time_point renewed_;  // guarded by the keeper's mutex
};

class LeaseKeeper {
 public:
  // |holder|: this instance's id (Store::instance_id). |registry| (optional) gets
  // mdmgw_leases_held and mdmgw_leases_lost_total.
  LeaseKeeper(LeaseStore& store, std::string holder, std::chrono::milliseconds ttl,
              metrics::Registry* registry = nullptr);
  ~LeaseKeeper();  // stops renewing; leases still referenced elsewhere are released when dropped

  // The lease when this instance got it; null when it is held elsewhere — by another instance, or
  // by other work of this one — and then |current_holder| (optional) says by whom. Errors come
  // from the store.
  Result<std::shared_ptr<HeldLease>> TryAcquire(const std::string& name,
                                                std::string* current_holder = nullptr);

  const std::string& holder() const { return holder_; }
  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  void Loop();
  void RenewAll();

  LeaseStore& store_;
  const std::string holder_;
  const std::chrono::milliseconds ttl_;
  metrics::Gauge* held_gauge_ = nullptr;
  metrics::Counter* lost_counter_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::weak_ptr<HeldLease>> held_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                 // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mdmgw::store

// LeaseStore: named leases, so that work which must run once across several gateway instances on
// one database (a DEP server's sync, housekeeping) runs on one instance at a time, and another
// takes over when the holder dies (its lease expires).
//
// A lease row holds its holder, an expiry judged by the database's clock (instances' clocks need
// not agree), and a fencing token that grows by one whenever the lease changes hands (or is taken
// again after it expired). The token is what makes a lease safe: a holder that stalled past its
// expiry (paused, partitioned) still believes it holds the lease, but its writes carry the old
// token, and a write checked with CheckLeaseFence inside its transaction fails once another
// instance has taken over. Rows are never deleted, so a token never repeats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

struct LeaseRecord {
  std::string name;
  std::string holder;          // instance id; "" when never held
  int64_t token = 0;           // fencing token
  int64_t expires_at_ms = 0;   // database clock, Unix ms
  int64_t acquired_at_ms = 0;  // when |holder| took it (renewals keep it)
  int64_t now_ms = 0;          // the database clock when this was read
  bool held() const { return expires_at_ms > now_ms; }
};

// Names the lease a write depends on: checked inside the write's transaction.
struct LeaseFence {
  std::string name;
  std::string holder;
  int64_t token = 0;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Takes |name| for |holder| for |ttl_ms| when it is free or expired, or renews it when |holder|
  // holds it already. Returns the lease as it stands afterwards: holder == |holder| means this
  // caller has it (with the token its writes must carry); another holder means it is taken.
  virtual Result<LeaseRecord> AcquireLease(const std::string& name, const std::string& holder,
                                           int64_t ttl_ms) = 0;
  // Extends the lease |holder| holds with |token|. FailedPrecondition "lease_lost" when the token
  // is no longer the lease's (another instance took it over).
  virtual Status RenewLease(const std::string& name, const std::string& holder, int64_t token,
                            int64_t ttl_ms) = 0;
  // Ends the lease now (if |holder| still holds it with |token|), so another instance need not
  // wait for the expiry. Missing or taken over: OK, nothing changes.
  virtual Status ReleaseLease(const std::string& name, const std::string& holder,
                              int64_t token) = 0;
  // Ends every lease |holder| holds and moves their tokens on: a restarted instance frees what
  // its previous life held (it no longer runs that work) instead of everyone waiting for the
  // expiry. Safe even if that holder still ran: its fenced writes fail from now on. Returns how
  // many leases were freed.
  virtual Result<int64_t> ForfeitLeases(const std::string& holder) = 0;
  // NotFound when the lease was never taken.
  virtual Result<LeaseRecord> GetLease(const std::string& name) = 0;
  // Every lease, by name (for the admin API and tests).
  virtual Result<std::vector<LeaseRecord>> ListLeases() = 0;
  // Inside a write's transaction: OK when |fence| is still the lease's holder and token,
  // FailedPrecondition "lease_lost" otherwise. On PostgreSQL it also locks the lease row until the
  // transaction ends, so a takeover waits for this write rather than overtaking it.
  virtual Status CheckLeaseFence(const LeaseFence& fence) = 0;
};

}  // namespace mdmgw::store

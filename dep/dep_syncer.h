// DepSyncer: brings each DEP server's device list in step with Apple (PROTOCOLS.md §2 "Sync
// algorithm"). A full fetch (POST /server/devices) page by page until more_to_follow is false,
// then sync (POST /devices/sync) from the same cursor. Every page's devices and the cursor after
// it are stored in one transaction, so a crash or kill loses nothing and repeats nothing.
// EXHAUSTED_CURSOR switches to sync; EXPIRED/INVALID_CURSOR start a full fetch again (once per
// run); the same cursor returned with more_to_follow stops the run (never spins); 429 and 5xx
// honour Retry-After (else jittered backoff) for short waits and otherwise end the run with the
// error, retried next interval.
//
// After a successful sync, the assigner (when set) gives the server's default profile to the
// devices that need it; its counts join the sync result as "auto_assign".
//
// Runs on one worker thread: the interval timer (per server, with jitter) and on-demand syncs
// (POST /api/v1/dep/servers/{name}/sync) share it, so a server never syncs twice at once.
//
// Several instances on one database: with a LeaseKeeper, a sync runs under the lease
// "dep-sync:<server>", so exactly one instance syncs a server at a time (another asking answers
// running_elsewhere), and every page is written with the lease's fence. The interval schedule is
// in the store (next_sync_at), shared by all: the worker looks every 5 s for servers that are due
// and tries their lease. A sync that ends moves next_sync_at on; one whose instance died leaves
// the server due, so once the lease expires another instance takes over from the stored cursor.
//
// Thread-safety: RequestSync/Start/Stop from any thread; callbacks run on the worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/metrics.h"
#include "dep/dep_assigner.h"
#include "dep/dep_clients.h"
#include "store/dep_store.h"
#include "store/lease_keeper.h"

namespace mdmgw::dep {

struct DepSyncResult {
  std::string server;
  bool ok = true;
  std::string error_code;  // DepClient reasons, or same_cursor, no_token, store
  std::string error;
  int pages = 0;
  int64_t fetched = 0;                           // records from full-fetch pages
  int64_t added = 0, modified = 0, deleted = 0;  // sync events
  int64_t devices = 0;                           // current devices stored afterwards
  bool full_fetch = false;
  double seconds = 0;
  nlohmann::json auto_assign;  // the assigner's counts after the sync, or null
  nlohmann::json ToJson() const;
};

class DepSyncer {
 public:
  using Done = std::function<void(DepSyncResult)>;

  // |registry| (optional) gets mdmgw_dep_token_expiry_seconds{server},
  // mdmgw_dep_terms_not_signed{server}, mdmgw_dep_devices{server},
  // mdmgw_dep_syncs_total{server,result}.
  DepSyncer(store::DepStore& store, DepClients& clients, Clock& clock = Clock::System(),
            metrics::Registry* registry = nullptr);
  ~DepSyncer();

  // Default-profile assignment after each successful sync (null: none).
  void SetAssigner(DepAssigner* assigner) { assigner_ = assigner; }
  // Syncs under per-server leases (several instances on one database). Null (the default): this
  // process is the only one. Set before Start.
  void SetLeases(store::LeaseKeeper* leases) { leases_ = leases; }
  // Whether this instance logs token-expiry warnings (one instance of several does: the
  // housekeeping lease holder); the expiry metric is kept either way. Default: always.
  void SetExpiryWarnings(std::function<bool()> allowed) { warn_expiry_ = std::move(allowed); }
  // How often the worker looks for due servers (default 5 s; tests shorten it). Before Start.
  void set_poll_interval(std::chrono::milliseconds poll) { poll_ = poll; }
  // Runs one sync of |server| now, on this thread (tests, benchmarks).
  DepSyncResult SyncOnce(const std::string& server);
  // Queues a sync on the worker; |done| (may be null) gets its result.
  void RequestSync(const std::string& server, Done done);
  // Starts the worker: queued syncs, and each server with a token every sync interval (jittered).
  void Start();
  // Finishes the sync under way, answers queued requests with an error, joins the worker.
  void Stop();

 private:
  void WorkerLoop();
  // The interval path: syncs |server| when it is due and its lease is free.
  void SyncIfDue(const std::string& server);
  // One sync run under |lease| (null without leases).
  DepSyncResult SyncHeld(const std::string& server, const store::HeldLease* lease);
  void RecordResult(const DepSyncResult& result);
  // Token expiry metric and warnings at 30/14/7/1 days (once per consumer key and threshold).
  void CheckTokenExpiry(const store::DepServerRecord& record, bool warn);

  store::DepStore& store_;
  DepClients& clients_;
  Clock& clock_;
  DepAssigner* assigner_ = nullptr;
  store::LeaseKeeper* leases_ = nullptr;
  std::function<bool()> warn_expiry_;
  std::chrono::milliseconds poll_{5000};
  std::mutex run_mu_;  // one SyncOnce at a time
  metrics::Family<metrics::Gauge>* token_expiry_ = nullptr;
  metrics::Family<metrics::Gauge>* terms_not_signed_ = nullptr;
  metrics::Family<metrics::Gauge>* devices_ = nullptr;
  metrics::Family<metrics::Counter>* syncs_ = nullptr;
  std::set<std::string> expiry_warned_;  // the worker thread only

  std::mutex mu_;
  std::condition_variable cv_;
  // Queued runs: on-demand ones have |done| or run regardless of the schedule; interval ones
  // (is_interval) check that the server is still due once they hold its lease.
  struct Queued {
    std::string server;
    Done done;
    bool is_interval = false;
  };
  std::deque<Queued> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;     // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace mdmgw::dep

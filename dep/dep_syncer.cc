#include "dep/dep_syncer.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "common/random.h"
#include "dep/dep_device_page.h"

namespace mdmgw::dep {
namespace {

double Jitter() { return 0.9 + 0.2 * RandomUnit(); }  // [0.9, 1.1]

}  // namespace

nlohmann::json DepSyncResult::ToJson() const {
  nlohmann::json j = {{"server", server},   {"ok", ok},           {"pages", pages},
                      {"fetched", fetched}, {"added", added},     {"modified", modified},
                      {"deleted", deleted}, {"devices", devices}, {"full_fetch", full_fetch},
                      {"seconds", seconds}};
  if (!ok) j["error"] = {{"code", error_code}, {"message", error}};
  if (!auto_assign.is_null()) j["auto_assign"] = auto_assign;
  return j;
}

DepSyncer::DepSyncer(store::DepStore& store, DepClients& clients, Clock& clock,
                     metrics::Registry* registry)
    : store_(store), clients_(clients), clock_(clock) {
  if (registry != nullptr) {
    token_expiry_ = &registry->AddGauge("mdmgw_dep_token_expiry_seconds",
                                        "Seconds until the DEP server token expires", {"server"});
    terms_not_signed_ = &registry->AddGauge(
        "mdmgw_dep_terms_not_signed",
        "1 when Apple refuses the server until new terms are accepted in Apple Business Manager",
        {"server"});
    devices_ =
        &registry->AddGauge("mdmgw_dep_devices", "Current devices of the DEP server", {"server"});
    syncs_ = &registry->AddCounter("mdmgw_dep_syncs_total", "DEP sync runs by result",
                                   {"server", "result"});
  }
}

void DepSyncer::RecordResult(const DepSyncResult& r) {
  if (syncs_ != nullptr) syncs_->WithLabels({r.server, r.ok ? "ok" : r.error_code}).Inc();
  if (terms_not_signed_ != nullptr) {
    terms_not_signed_->WithLabels({r.server}).Set(r.error_code == "terms_not_signed" ? 1 : 0);
  }
  if (devices_ != nullptr && (r.ok || r.devices > 0)) {
    devices_->WithLabels({r.server}).Set(static_cast<double>(r.devices));
  }
  if (r.error_code == "terms_not_signed") {
    log::Warn(
        "dep: Apple requires new terms to be accepted in Apple Business Manager; syncs "
        "and assignments for this server stop until then",
        {{"server", r.server}});
  }
}

void DepSyncer::CheckTokenExpiry(const store::DepServerRecord& record, bool warn) {
  if (record.consumer_key.empty()) return;
  int64_t left = record.token_expiry - clock_.NowUnixSeconds();
  if (token_expiry_ != nullptr) {
    token_expiry_->WithLabels({record.name}).Set(static_cast<double>(left));
  }
  if (!warn) return;
  for (int threshold : {1, 7, 14, 30}) {
    if (left > static_cast<int64_t>(threshold) * 86400) continue;
    if (!expiry_warned_.insert(record.consumer_key + ":" + std::to_string(threshold)).second) break;
    log::Warn(
        left <= 0 ? "dep: the server token has EXPIRED; download a new one from Apple "
                    "Business Manager"
                  : "dep: the server token expires soon; download a new one from Apple "
                    "Business Manager",
        {{"server", record.name}, {"days_left", left / 86400}, {"threshold_days", threshold}});
    break;
  }
}

DepSyncer::~DepSyncer() { Stop(); }

namespace {

std::string SyncLeaseName(const std::string& server) { return "dep-sync:" + server; }

}  // namespace

DepSyncResult DepSyncer::SyncOnce(const std::string& server) {
  std::lock_guard run(run_mu_);
  if (leases_ == nullptr) return SyncHeld(server, nullptr);
  std::string holder;
  auto lease = leases_->TryAcquire(SyncLeaseName(server), &holder);
  DepSyncResult result;
  result.server = server;
  if (!lease.ok() || *lease == nullptr) {
    result.ok = false;
    result.error_code = lease.ok() ? "running_elsewhere" : "store";
    result.error = lease.ok() ? "a sync of \"" + server + "\" is under way on instance " + holder +
                                    "; its result will show in GET /api/v1/dep/servers/" + server
                              : lease.status().message();
    return result;
  }
  return SyncHeld(server, lease->get());
}

void DepSyncer::SyncIfDue(const std::string& server) {
  std::lock_guard run(run_mu_);
  std::shared_ptr<store::HeldLease> held;
  if (leases_ != nullptr) {
    auto lease = leases_->TryAcquire(SyncLeaseName(server));
    if (!lease.ok()) {
      log::Warn("dep: cannot take the sync lease",
                {{"server", server}, {"error", lease.status().ToString()}});
      return;
    }
    if (*lease == nullptr) return;  // another instance is syncing it
    held = *lease;
  }
  // Read under the lease: another instance may have just finished this server's sync.
  auto state = store_.GetDepSyncState(server);
  if (!state.ok() || state->next_sync_at > clock_.NowUnixSeconds()) return;
  SyncHeld(server, held.get());
}

DepSyncResult DepSyncer::SyncHeld(const std::string& server, const store::HeldLease* held) {
  auto started = std::chrono::steady_clock::now();
  DepSyncResult result;
  result.server = server;
  auto fail = [&](std::string code, std::string msg) {
    result.ok = false;
    result.error_code = std::move(code);
    result.error = std::move(msg);
  };
  const store::LeaseFence* fence = held != nullptr ? &held->fence() : nullptr;
  auto lease = clients_.For(server);
  if (!lease.ok()) {
    fail(lease.status().code() == StatusCode::kNotFound ? "not_found" : "no_token",
         lease.status().message());
    return result;
  }
  auto state = store_.GetDepSyncState(server);
  if (!state.ok()) {
    fail("store", state.status().message());
    return result;
  }
  int limit = lease->page_limit;
  DepClient* client = lease->client.get();
  std::string cursor = state->cursor;
  std::string phase = state->phase == "sync" && !cursor.empty() ? "sync" : "fetch";
  result.full_fetch = phase == "fetch";
  int resets = 0, retries = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (true) {
    if (held != nullptr && held->lost()) {
      fail("lease_lost",
           "this instance lost the server's sync lease (another instance took over); stopped");
      break;
    }
    nlohmann::json body = {{"limit", limit}};
    if (!cursor.empty()) body["cursor"] = cursor;
    auto page = client->Call("POST", phase == "fetch" ? "/server/devices" : "/devices/sync", &body);
    if (!page.ok()) {
      std::string reason = page.status().reason();
      if (reason == "cursor_exhausted" && phase == "fetch") {
        phase = "sync";
        Status s = store_.ApplyDepPage(server, {}, cursor, phase, clock_.NowUnixSeconds(), fence);
        if (!s.ok()) return fail("store", s.message()), result;
        continue;
      }
      if ((reason == "cursor_reset" || reason == "cursor_required") && resets++ == 0) {
        log::Warn("dep: cursor refused; starting a full fetch",
                  {{"server", server}, {"reason", page.status().message()}});
        cursor.clear();
        phase = "fetch";
        result.full_fetch = true;
        Status s = store_.ApplyDepPage(server, {}, cursor, phase, clock_.NowUnixSeconds(), fence);
        if (!s.ok()) return fail("store", s.message()), result;
        continue;
      }
      // 429 / 5xx: Apple's Retry-After when it sends one, else jittered exponential backoff
      // (1, 2, 4, 8 s); waits up to 10 s happen here (5 at most), longer ones end the run and
      // the next interval resumes from the stored cursor.
      if ((reason == "throttled" || reason == "server_error") && retries < 5) {
        int64_t advised = client->retry_after_seconds();
        double wait = advised > 0 ? static_cast<double>(advised)
                                  : static_cast<double>(1 << retries) * Jitter();
        if (wait <= 10) {
          ++retries;
          std::this_thread::sleep_for(std::chrono::duration<double>(wait));
          continue;
        }
      }
      fail(reason, page.status().message());
      break;
    }
    int64_t now = clock_.NowUnixSeconds();
    DepDevicePage parsed = ParseDepDevicePage(*page, phase == "sync", now);
    result.fetched += parsed.fetched;
    result.added += parsed.added;
    result.modified += parsed.modified;
    result.deleted += parsed.deleted;
    std::vector<store::DepDeviceRecord>& records = parsed.records;
    std::string next = parsed.cursor;
    bool more = parsed.more_to_follow;
    if (next.empty()) next = cursor;
    Status stored = store_.ApplyDepPage(server, records, next, phase, now, fence);
    if (!stored.ok()) {
      fail(stored.reason() == "lease_lost" ? "lease_lost" : "store", stored.message());
      break;
    }
    ++result.pages;
    if (more && next == cursor) {
      fail("same_cursor",
           "Apple returned the same cursor with more_to_follow; stopping until "
           "the next interval rather than asking again");
      break;
    }
    cursor = next;
    if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(5)) {
      last_progress = std::chrono::steady_clock::now();
      double secs = std::chrono::duration<double>(last_progress - started).count();
      log::Info("dep: sync progress",
                {{"server", server},
                 {"phase", phase},
                 {"pages", result.pages},
                 {"devices", result.fetched + result.added + result.modified + result.deleted},
                 {"devices_per_second",
                  (result.fetched + result.added + result.modified + result.deleted) /
                      std::max(secs, 0.001)}});
    }
    if (!more) {
      if (phase == "sync") break;
      phase = "sync";  // the fetch is complete: pick up what changed meanwhile
      Status s = store_.ApplyDepPage(server, {}, cursor, phase, clock_.NowUnixSeconds(), fence);
      if (!s.ok()) return fail("store", s.message()), result;
    }
  }
  if (result.ok && assigner_ != nullptr && (held == nullptr || !held->lost())) {
    auto assigned = assigner_->AutoAssign(server);
    if (assigned.ok()) {
      if (assigned->calls > 0) result.auto_assign = assigned->ToJson(false);
    } else {
      result.auto_assign = {
          {"error",
           {{"code", assigned.status().reason()}, {"message", assigned.status().message()}}}};
    }
  }
  result.devices = store_.CountDepDevices(server).value_or(0);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result.error_code != "lease_lost") {
    int64_t now = clock_.NowUnixSeconds();
    (void)store_.PutDepSyncResult(server, now, result.ToJson().dump());
    // The next interval sync, for whichever instance gets there first.
    int64_t interval = 1800;
    if (auto record = store_.GetDepServer(server); record.ok()) {
      interval = record->sync_interval_seconds;
    }
    (void)store_.SetDepNextSyncAt(server, now + static_cast<int64_t>(interval * Jitter()));
  }
  RecordResult(result);
  if (result.ok) {
    log::Info("dep: sync done", result.ToJson());
  } else {
    log::Warn("dep: sync failed", result.ToJson());
  }
  return result;
}

void DepSyncer::RequestSync(const std::string& server, Done done) {
  {
    std::lock_guard lock(mu_);
    // Queued before Start() too: the HTTP server accepts requests a moment before the worker
    // starts (the public URL needs the bound port), and Stop() answers whatever is still queued.
    if (!stopping_) {
      queue_.push_back(Queued{server, std::move(done), false});
      cv_.notify_all();
      return;
    }
  }
  DepSyncResult r;
  r.server = server;
  r.ok = false;
  r.error_code = "stopped";
  r.error = "the syncer is not running";
  if (done) done(std::move(r));
}

void DepSyncer::Start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { WorkerLoop(); });
}

void DepSyncer::Stop() {
  std::deque<Queued> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (auto& q : left) {
    DepSyncResult r;
    r.server = q.server;
    r.ok = false;
    r.error_code = "stopped";
    r.error = "the gateway is stopping";
    if (q.done) q.done(std::move(r));
  }
}

void DepSyncer::WorkerLoop() {
  std::unique_lock lock(mu_);
  auto next_look = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (!queue_.empty()) {
      Queued q = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      if (q.is_interval) {
        SyncIfDue(q.server);
      } else {
        DepSyncResult r = SyncOnce(q.server);
        if (q.done) q.done(std::move(r));
      }
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() < next_look) {
      cv_.wait_until(lock, next_look);
      continue;
    }
    next_look = std::chrono::steady_clock::now() + poll_;
    // Interval syncs: every server with a token whose shared next_sync_at has come.
    lock.unlock();
    int64_t now = clock_.NowUnixSeconds();
    std::vector<std::string> due;
    bool warn = !warn_expiry_ || warn_expiry_();
    if (auto servers = store_.ListDepServers(); servers.ok()) {
      for (const auto& s : *servers) {
        if (s.consumer_key.empty()) continue;
        CheckTokenExpiry(s, warn);
        auto state = store_.GetDepSyncState(s.name);
        if (state.ok() && state->next_sync_at <= now) due.push_back(s.name);
      }
    }
    lock.lock();
    for (const auto& name : due) queue_.push_back(Queued{name, nullptr, true});
  }
}

}  // namespace mdmgw::dep

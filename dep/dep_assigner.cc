#include "dep/dep_assigner.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace mdmgw::dep {
namespace {

// Apple's per-serial word -> the stored status.
std::string StoredStatus(const std::string& apple) {
  if (apple == "SUCCESS") return "success";
  if (apple == "NOT_ACCESSIBLE") return "not_accessible";
  if (apple == "THROTTLED") return "throttled";
  return "failed";  // FAILED, and anything Apple may add
}

// Serials [i, i + 1000) of |serials|: one call's worth.
std::vector<std::string> ChunkAt(const std::vector<std::string>& serials, size_t i) {
  size_t end = std::min(serials.size(), i + DepClient::kMaxSerialsPerCall);
  return std::vector<std::string>(serials.begin() + static_cast<ptrdiff_t>(i),
                                  serials.begin() + static_cast<ptrdiff_t>(end));
}

Status CheckSerialList(const std::vector<std::string>& serials) {
  if (serials.empty()) return Status::InvalidArgument("give at least one serial", "bad_request");
  for (const auto& s : serials) {
    // Lengths vary (10, 12, more later): only emptiness and control bytes are refused.
    if (s.empty() || s.size() > 64 || std::any_of(s.begin(), s.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x21;
        }))
      return Status::InvalidArgument("\"" + s + "\" is not a serial number", "bad_serial");
  }
  return Status::Ok();
}

}  // namespace

Status DepAssigner::CheckRequestSize(const std::vector<std::string>& serials) {
  if (serials.size() > kMaxSerialsPerRequest) {
    return Status::InvalidArgument("at most 50000 serials per request", "too_many_serials");
  }
  return Status::Ok();
}

nlohmann::json DepAssignOutcome::ToJson(bool with_devices) const {
  nlohmann::json j = {{"server", server},     {"action", action},
                      {"success", success},   {"not_accessible", not_accessible},
                      {"failed", failed},     {"throttled", throttled},
                      {"not_sent", not_sent}, {"calls", calls}};
  if (!profile.empty()) j["profile"] = profile;
  if (!profile_uuid.empty()) j["profile_uuid"] = profile_uuid;
  if (retry_after_seconds > 0) j["retry_after_seconds"] = retry_after_seconds;
  if (with_devices) j["devices"] = devices;
  if (!ok) j["error"] = {{"code", error_code}, {"message", error}};
  return j;
}

DepAssigner::DepAssigner(store::DepStore& store, DepClients& clients, Clock& clock,
                         metrics::Registry* registry)
    : store_(store), clients_(clients), clock_(clock) {
  if (registry != nullptr) {
    assignments_ =
        &registry->AddCounter("mdmgw_dep_assignments_total",
                              "DEP profile assignment answers per serial", {"server", "result"});
  }
}

std::mutex& DepAssigner::ServerMutex(const std::string& server) {
  std::lock_guard lock(mu_);
  auto& m = server_mu_[server];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

void DepAssigner::CountOutcome(const DepAssignOutcome& out) {
  if (assignments_ == nullptr) return;
  for (auto [result, n] :
       {std::pair{"success", out.success}, std::pair{"not_accessible", out.not_accessible},
        std::pair{"failed", out.failed}, std::pair{"throttled", out.throttled}}) {
    if (n > 0) assignments_->WithLabels({out.server, result}).Inc(static_cast<double>(n));
  }
}

bool DepAssigner::AssignChunk(DepClient& client, const std::string& profile_uuid,
                              const std::vector<std::string>& chunk, DepAssignOutcome* out) {
  ++out->calls;
  auto answer = client.AssignProfile(profile_uuid, chunk);
  if (!answer.ok()) {
    out->ok = false;
    out->error_code = answer.status().reason();
    out->error = answer.status().message();
    out->retry_after_seconds = client.retry_after_seconds();
    return false;
  }
  int64_t now = clock_.NowUnixSeconds();
  int64_t advised = answer->retry_after_seconds > 0 ? answer->retry_after_seconds : 0;
  std::vector<store::DepAssignmentRecord> records;
  records.reserve(chunk.size());
  bool throttled = false;
  for (const std::string& serial : chunk) {
    auto it = answer->devices.find(serial);
    // A serial Apple left out of its answer is treated as FAILED: retried after the default wait.
    std::string apple = it == answer->devices.end() ? "FAILED" : it->second;
    out->devices[serial] = it == answer->devices.end() ? "MISSING" : apple;
    store::DepAssignmentRecord r;
    r.serial = serial;
    r.profile_uuid = profile_uuid;
    r.status = StoredStatus(apple);
    r.attempted_at = now;
    if (r.status == "success") {
      ++out->success;
    } else if (r.status == "not_accessible") {
      ++out->not_accessible;
    } else if (r.status == "throttled") {
      ++out->throttled;
      throttled = true;
      r.retry_at = now + (advised > 0 ? advised : kDefaultRetrySeconds);
    } else {
      // Apple's retry_after_seconds is its throttling advice; a FAILED device waits the default.
      ++out->failed;
      r.retry_at = now + kDefaultRetrySeconds;
    }
    records.push_back(std::move(r));
  }
  if (advised > 0) out->retry_after_seconds = advised;
  Status stored = store_.RecordDepAssignments(out->server, records);
  if (!stored.ok()) {
    out->ok = false;
    out->error_code = "store";
    out->error = stored.message();
    return false;
  }
  return !throttled;  // Apple asked us to slow down: the rest waits for the next run
}

Result<DepAssignOutcome> DepAssigner::Assign(const std::string& server, const std::string& profile,
                                             const std::vector<std::string>& serials) {
  MDMGW_RETURN_IF_ERROR(CheckRequestSize(serials));
  auto record = store_.GetDepProfile(server, profile);
  if (!record.ok()) return record.status();
  return AssignUuid(server, profile, record->profile_uuid, serials);
}

Result<DepAssignOutcome> DepAssigner::AssignUuid(const std::string& server,
                                                 const std::string& profile,
                                                 const std::string& profile_uuid,
                                                 const std::vector<std::string>& serials) {
  MDMGW_RETURN_IF_ERROR(CheckSerialList(serials));
  auto lease = clients_.For(server);
  if (!lease.ok()) return lease.status();
  std::lock_guard run(ServerMutex(server));
  DepAssignOutcome out;
  out.server = server;
  out.action = "assign";
  out.profile = profile;
  out.profile_uuid = profile_uuid;
  for (size_t i = 0; i < serials.size(); i += DepClient::kMaxSerialsPerCall) {
    std::vector<std::string> chunk = ChunkAt(serials, i);
    if (!AssignChunk(*lease->client, profile_uuid, chunk, &out)) {
      // A THROTTLED answer: the rest waits; a failed call: this chunk too.
      out.not_sent = static_cast<int64_t>(serials.size() - i - (out.ok ? chunk.size() : 0));
      break;
    }
  }
  CountOutcome(out);
  return out;
}

Result<DepAssignOutcome> DepAssigner::AutoAssign(const std::string& server) {
  auto record = store_.GetDepServer(server);
  if (!record.ok()) return record.status();
  DepAssignOutcome out;
  out.server = server;
  out.action = "assign";
  std::string default_uuid;
  if (!record->default_profile.empty()) {
    auto profile = store_.GetDepProfile(server, record->default_profile);
    if (!profile.ok()) {
      return Status::FailedPrecondition("the default profile \"" + record->default_profile +
                                            "\" is not defined at Apple through the gateway",
                                        "default_profile_missing");
    }
    out.profile = profile->name;
    out.profile_uuid = default_uuid = profile->profile_uuid;
  }
  // Pilot roll-outs: profiles limited to their enrollment profile's groups claim those devices.
  struct Targeted {
    std::string uuid;
    std::set<std::string> serials;
  };
  std::vector<Targeted> targeted;
  if (targets_ != nullptr) {
    auto profiles = store_.ListDepProfiles(server);
    if (!profiles.ok()) return profiles.status();
    for (const auto& p : *profiles) {
      if (p.enrollment_profile.empty() || p.name == record->default_profile) continue;
      auto serials = targets_->TargetedSerials(p.enrollment_profile);
      if (!serials.ok()) {
        log::Warn("dep: a profile's pilot groups are unreadable; it is skipped",
                  {{"server", server}, {"profile", p.name}, {"error", serials.status().message()}});
        continue;
      }
      if (serials->has_value() && !(*serials)->empty())
        targeted.push_back({p.profile_uuid, std::move(**serials)});
    }
  }
  if (default_uuid.empty() && targeted.empty()) return out;
  auto lease = clients_.For(server);
  if (!lease.ok()) return lease.status();
  std::lock_guard run(ServerMutex(server));
  int64_t now = clock_.NowUnixSeconds();
  std::string after;
  bool go_on = true;
  while (go_on) {
    auto due = store_.ListDepDevicesToAssign(server, now, after,
                                             static_cast<int>(DepClient::kMaxSerialsPerCall));
    if (!due.ok()) {
      out.ok = false;
      out.error_code = "store";
      out.error = due.status().message();
      break;
    }
    if (due->empty()) break;
    after = due->back();
    // One call per profile for this page: a pilot profile's members, then the rest.
    std::vector<std::vector<std::string>> buckets(targeted.size() + 1);
    for (const auto& serial : *due) {
      size_t b = targeted.size();
      for (size_t i = 0; i < targeted.size(); ++i) {
        if (targeted[i].serials.count(serial)) {
          b = i;
          break;
        }
      }
      buckets[b].push_back(serial);
    }
    for (size_t b = 0; b < buckets.size() && go_on; ++b) {
      const std::string& uuid = b < targeted.size() ? targeted[b].uuid : default_uuid;
      if (buckets[b].empty() || uuid.empty()) continue;
      go_on = AssignChunk(*lease->client, uuid, buckets[b], &out);
      out.devices.clear();  // counts only: an auto run may touch 100k serials
    }
  }
  CountOutcome(out);
  if (out.calls > 0) {
    nlohmann::json summary = out.ToJson(false);
    if (out.ok && out.throttled == 0) {
      log::Info("dep: profiles assigned", summary);
    } else {
      log::Warn("dep: profile assignment incomplete; the rest is retried later", summary);
    }
  }
  return out;
}

Result<DepAssignOutcome> DepAssigner::RunSerialAction(const std::string& server,
                                                      const std::string& action,
                                                      const std::vector<std::string>& serials,
                                                      const SerialCall& call,
                                                      const std::string& record_success_as) {
  MDMGW_RETURN_IF_ERROR(CheckRequestSize(serials));
  MDMGW_RETURN_IF_ERROR(CheckSerialList(serials));
  auto lease = clients_.For(server);
  if (!lease.ok()) return lease.status();
  std::lock_guard run(ServerMutex(server));
  DepAssignOutcome out;
  out.server = server;
  out.action = action;
  for (size_t i = 0; i < serials.size(); i += DepClient::kMaxSerialsPerCall) {
    std::vector<std::string> chunk = ChunkAt(serials, i);
    ++out.calls;
    auto answer = call(*lease->client, chunk);
    if (!answer.ok()) {
      out.ok = false;
      out.error_code = answer.status().reason();
      out.error = answer.status().message();
      out.not_sent = static_cast<int64_t>(serials.size() - i);
      break;
    }
    int64_t now = clock_.NowUnixSeconds();
    std::vector<store::DepAssignmentRecord> records;
    for (const auto& serial : chunk) {
      auto it = answer->devices.find(serial);
      std::string apple = it == answer->devices.end() ? "FAILED" : it->second;
      out.devices[serial] = apple;
      if (apple == "SUCCESS") {
        ++out.success;
        if (!record_success_as.empty()) records.push_back({serial, "", record_success_as, now, 0});
      } else if (apple == "NOT_ACCESSIBLE") {
        ++out.not_accessible;
      } else {
        ++out.failed;
      }
    }
    if (!records.empty()) MDMGW_RETURN_IF_ERROR(store_.RecordDepAssignments(server, records));
  }
  return out;
}

Result<DepAssignOutcome> DepAssigner::Remove(const std::string& server,
                                             const std::vector<std::string>& serials) {
  // "removed": an admin's decision, so the auto-assigner leaves those devices alone.
  return RunSerialAction(
      server, "remove", serials,
      [](DepClient& c, const std::vector<std::string>& chunk) { return c.RemoveProfile(chunk); },
      "removed");
}

Result<DepAssignOutcome> DepAssigner::Disown(const std::string& server,
                                             const std::vector<std::string>& serials) {
  auto out = RunSerialAction(
      server, "disown", serials,
      [](DepClient& c, const std::vector<std::string>& chunk) { return c.Disown(chunk); }, "");
  // The devices leave the stored list with Apple's next sync ("deleted" events).
  if (out.ok()) log::Warn("dep: devices disowned at Apple", out->ToJson(false));
  return out;
}

}  // namespace mdmgw::dep

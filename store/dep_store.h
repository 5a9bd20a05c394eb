// DepStore: the organisation's DEP (ADE) servers, one per Apple Business Manager token: the
// token-exchange identity (certificate + sealed key), the sealed OAuth1 token, and what Apple's
// /account said about the server. Device records and cursors join it with the syncer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/lease_store.h"

namespace mdmgw::store {

struct DepServerRecord {
  std::string name;  // the admin's name for it, unique
  std::string base_url;
  int64_t sync_interval_seconds = 1800;
  std::string cert_pem;           // token-exchange certificate (uploaded to ABM)
  std::string sealed_key;         // SecretBox(key PEM, "dep.key:" + name)
  std::string consumer_key;       // CK_..., empty until a token is uploaded
  std::string sealed_token;       // SecretBox(token JSON, "dep.token:" + name)
  int64_t token_expiry = 0;       // Unix seconds; 0 without a token
  int64_t token_uploaded_at = 0;  // Unix seconds
  std::string server_uuid;        // from /account
  std::string server_name;
  std::string org_name;
  // The DEP profile (a name in dep_profiles) new devices get; "" = none. Written only by
  // SetDepDefaultProfile (PutDepServer keeps the stored value).
  std::string default_profile;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A device as Apple's DEP API last described it, per server.
struct DepDeviceRecord {
  std::string server;
  std::string serial;  // 10 or 12 characters today; never assumed
  std::string model, description, color, os, device_family;
  std::string profile_status;  // empty, assigned, pushed, removed
  std::string profile_uuid;
  std::string op_type;  // added, modified, deleted ("" from a full fetch)
  int64_t op_date = 0;  // Unix seconds (0 from a full fetch)
  bool deleted = false;
  int64_t updated_at = 0;
  // Read-only, from ListDepDevices: where assignment stands (see DepAssignmentState) and the
  // gateway's last attempt, if any.
  std::string assignment;  // assigned, pushed, unassigned, throttled, failed, not_accessible
  std::string assign_profile_uuid;
  int64_t assign_attempts = 0;
  int64_t assign_attempted_at = 0;
  int64_t assign_retry_at = 0;
};

// A DEP profile defined at Apple through the gateway.
struct DepProfileRecord {
  std::string server;
  std::string name;          // the gateway's name (the enrollment URL's last segment)
  std::string profile_uuid;  // Apple's
  std::string definition;    // the JSON sent to Apple's POST /profile
  int64_t defined_at = 0;
  // The gateway enrollment profile it was made from ("" = none); its pilot groups limit which
  // devices the auto-assigner gives it.
  std::string enrollment_profile;
};

// The gateway's last assignment attempt for one device.
struct DepAssignmentRecord {
  std::string serial;
  std::string profile_uuid;
  std::string status;  // success, not_accessible, failed, throttled
  int64_t attempted_at = 0;
  int64_t retry_at = 0;  // failed/throttled: not before this (Unix s); 0 otherwise
};

// Assignment states ListDepDevices can filter by.
inline constexpr const char* kDepAssignmentStates[] = {"assigned",  "pushed", "unassigned",
                                                       "throttled", "failed", "not_accessible"};

// Where a server's sync stands: the cursor is stored in the same transaction as its page.
struct DepSyncState {
  std::string cursor;
  std::string phase;  // "fetch" (full fetch under way or not started) or "sync"
  int64_t last_sync_at = 0;
  std::string last_result;   // JSON of the last SyncOnce result
  int64_t cursor_at = 0;     // when the cursor was last stored (Unix s)
  int64_t next_sync_at = 0;  // when the next interval sync is due (Unix s); 0 = now
};

class DepStore {
 public:
  virtual ~DepStore() = default;
  // Inserts or replaces the server named record.name.
  virtual Status PutDepServer(const DepServerRecord& record) = 0;
  // NotFound when no such server.
  virtual Result<DepServerRecord> GetDepServer(const std::string& name) = 0;
  // Ordered by name.
  virtual Result<std::vector<DepServerRecord>> ListDepServers() = 0;
  // NotFound when no such server.
  virtual Status DeleteDepServer(const std::string& name) = 0;

  // One page, atomically: device upserts (a sync event replaces a record only when its op_date
  // is not older than the stored one) and the cursor/phase after it, stored |at| (Unix s). With
  // |fence|, nothing is written unless that lease is still the caller's (FailedPrecondition
  // "lease_lost"): an instance that lost the server's sync lease cannot overwrite the cursor of
  // the instance that took over.
  virtual Status ApplyDepPage(const std::string& server,
                              const std::vector<DepDeviceRecord>& devices,
                              const std::string& cursor, const std::string& phase, int64_t at,
                              const LeaseFence* fence = nullptr) = 0;
  // Empty state (phase "fetch", no cursor) for a server never synced.
  virtual Result<DepSyncState> GetDepSyncState(const std::string& server) = 0;
  virtual Status PutDepSyncResult(const std::string& server, int64_t at,
                                  const std::string& result_json) = 0;
  // When the server's next interval sync is due (Unix s), shared by every instance: a sync that
  // finishes moves it on; one cut short (its instance died) leaves it due, so another takes over.
  virtual Status SetDepNextSyncAt(const std::string& server, int64_t at) = 0;
  // Current (not deleted) devices of |server| with serial > |after|, by serial; only those in
  // assignment state |state| when it is not empty.
  virtual Result<std::vector<DepDeviceRecord>> ListDepDevices(const std::string& server,
                                                              const std::string& after, int limit,
                                                              const std::string& state = "") = 0;
  virtual Result<int64_t> CountDepDevices(const std::string& server) = 0;
  // Current devices per assignment state.
  virtual Result<std::map<std::string, int64_t>> CountDepDevicesByState(
      const std::string& server) = 0;

  // Profiles defined at Apple: insert or replace by (server, name).
  virtual Status PutDepProfile(const DepProfileRecord& record) = 0;
  virtual Result<DepProfileRecord> GetDepProfile(const std::string& server,
                                                 const std::string& name) = 0;
  virtual Result<std::vector<DepProfileRecord>> ListDepProfiles(const std::string& server) = 0;
  // NotFound when no such server. |profile| "" clears it.
  virtual Status SetDepDefaultProfile(const std::string& server, const std::string& profile) = 0;

  // Assignment attempts, atomically; a success also marks the device's profile as assigned
  // (until Apple's next sync event says otherwise).
  virtual Status RecordDepAssignments(const std::string& server,
                                      const std::vector<DepAssignmentRecord>& records) = 0;
  // Current devices (> |after|, by serial) whose profile at Apple is |profile_uuid|.
  virtual Result<std::vector<std::string>> ListDepSerialsWithProfile(
      const std::string& server, const std::string& profile_uuid, const std::string& after,
      int limit) = 0;
  // Serials (> |after|, by serial) that should get the default profile now: current devices
  // without a profile that were never tried, or whose failed/throttled attempt may be retried
  // (retry_at <= |now|), or that Apple reported changed after a success or NOT_ACCESSIBLE (a
  // device whose profile was removed, or that came back to this server).
  virtual Result<std::vector<std::string>> ListDepDevicesToAssign(const std::string& server,
                                                                  int64_t now,
                                                                  const std::string& after,
                                                                  int limit) = 0;
};

}  // namespace mdmgw::store

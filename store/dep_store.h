// DepStore: the organisation's DEP (ADE) servers, one per Apple Business Manager token: the
// token-exchange identity (certificate + sealed key), the sealed OAuth1 token, and what Apple's
// /account said about the server. Device records and cursors join it with the syncer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

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
};

// Where a server's sync stands: the cursor is stored in the same transaction as its page.
struct DepSyncState {
  std::string cursor;
  std::string phase;  // "fetch" (full fetch under way or not started) or "sync"
  int64_t last_sync_at = 0;
  std::string last_result;  // JSON of the last SyncOnce result
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
  // is not older than the stored one) and the cursor/phase after it.
  virtual Status ApplyDepPage(const std::string& server,
                              const std::vector<DepDeviceRecord>& devices,
                              const std::string& cursor, const std::string& phase) = 0;
  // Empty state (phase "fetch", no cursor) for a server never synced.
  virtual Result<DepSyncState> GetDepSyncState(const std::string& server) = 0;
  virtual Status PutDepSyncResult(const std::string& server, int64_t at,
                                  const std::string& result_json) = 0;
  // Current (not deleted) devices of |server| with serial > |after|, by serial.
  virtual Result<std::vector<DepDeviceRecord>> ListDepDevices(const std::string& server,
                                                              const std::string& after,
                                                              int limit) = 0;
  virtual Result<int64_t> CountDepDevices(const std::string& server) = 0;
};

}  // namespace mdmgw::store

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
};

}  // namespace mdmgw::store

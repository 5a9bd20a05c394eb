// ApiKeyStore: admin API keys, stored as SHA-256 hashes only (the key itself is shown once).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::store {

struct ApiKeyRecord {
  std::string id;               // public identifier, e.g. "k_3f9a..."
  std::string name;             // unique, chosen by the admin
  std::string key_hash;         // raw SHA-256 of the key
  std::string scope = "admin";  // "admin" (everything) or "read" (GET/HEAD only)
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
  std::optional<int64_t> last_used_at;
};

class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  // AlreadyExists when the name (or hash) is taken.
  virtual Status CreateApiKey(const ApiKeyRecord& record) = 0;
  // The key with this hash, revoked or not; NotFound when none.
  virtual Result<ApiKeyRecord> FindApiKeyByHash(const std::string& key_hash) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  // Marks the key named or identified by |name_or_id| revoked at |now|. NotFound when no active key
  // matches.
  virtual Status RevokeApiKey(const std::string& name_or_id, int64_t now) = 0;
  virtual Status TouchApiKey(const std::string& id, int64_t now) = 0;
};

}  // namespace mdmgw::store

// ApiKeys: admin API keys. A key is "mdmgw_" + 43 URL-safe characters (32 random bytes); only its
// SHA-256 is stored, and it is printed once at creation. Authenticate() checks an Authorization
// header ("Bearer <key>"). A key has a scope: "admin" may do everything, "read" only GET/HEAD (for
// dashboards and monitoring that must not change anything); the Router enforces it.
//
// Thread-safety: thread-safe (the store serialises; the last-used cache has its own mutex).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret.h"
#include "store/api_key_store.h"

namespace mdmgw::gateway {

struct CreatedApiKey {
  store::ApiKeyRecord record;
  Secret<std::string> key;  // shown to the admin once, never stored or logged
};

inline constexpr std::string_view kAdminScope = "admin";
inline constexpr std::string_view kReadScope = "read";

class ApiKeys {
 public:
  ApiKeys(store::ApiKeyStore& store, Clock& clock) : store_(store), clock_(clock) {}

  // InvalidArgument for an empty or over-long name or an unknown scope; AlreadyExists when the
  // name is taken.
  Result<CreatedApiKey> Create(std::string_view name, std::string_view scope = kAdminScope);
  // The active key presented in |authorization|. Unauthenticated when missing, malformed, unknown
  // or revoked (the message says which); Unavailable when the store is down.
  Result<store::ApiKeyRecord> Authenticate(std::string_view authorization);

 private:
  store::ApiKeyStore& store_;
  Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> last_touch_;  // GUARDED_BY(mu_): id -> last stored time
};

}  // namespace mdmgw::gateway

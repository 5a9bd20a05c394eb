// DepServerService: the named DEP servers behind the admin API — create/update (base URL, sync
// interval), the token-exchange certificate (generated once, kept until a token arrives), the
// `.p7m` token upload (decrypted, consumer-key continuity guarded, confirmed with Apple's
// /account — whose server name, UUID and organisation are kept — then secrets sealed), list and
// delete.
//
// Thread-safety: thread-safe (the store serialises; uploads for one server are serialised here).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_box.h"
#include "dep/server_token.h"
#include "net/h1_client.h"
#include "store/dep_store.h"

namespace mdmgw::dep {

inline constexpr std::string_view kAppleDepBaseUrl = "https://mdmenrollment.apple.com";

struct DepServerSettings {
  std::optional<std::string> base_url;
  std::optional<int64_t> sync_interval_seconds;
};

struct DepServerInfo {
  std::string name;
  std::string base_url;
  int64_t sync_interval_seconds = 0;
  bool has_token = false;
  std::string consumer_key;
  int64_t token_expiry = 0;
  int64_t token_days_left = 0;
  int64_t token_uploaded_at = 0;
  std::string server_uuid, server_name, org_name;
  bool created = false;  // Upsert made a new server
};

class DepServerService {
 public:
  // |http| carries the calls to Apple (or a simulator) for every server.
  DepServerService(store::DepStore& store, const SecretBox& box, Clock& clock, net::H1Client& http);

  // Names: 1–64 of [A-Za-z0-9._-]. base_url must be http(s); interval 60 s – 7 days.
  Result<DepServerInfo> Upsert(const std::string& name, const DepServerSettings& settings);
  Result<DepServerInfo> Info(const std::string& name);
  Result<std::vector<DepServerInfo>> List();
  Status Delete(const std::string& name);
  // The token-exchange certificate PEM (generated on first call).
  Result<std::string> Certificate(const std::string& name);
  // consumer_key_changed (409) unless |force| when a token with another consumer key is stored.
  // The token is confirmed with GET /account first; Apple's refusal (terms_not_signed,
  // access_denied, session_rejected) or unavailability is returned and nothing is stored.
  Result<DepServerInfo> UploadToken(const std::string& name, std::string_view p7m, bool force);
  // The opened OAuth1 token of a server (for the API client). NotFound without a token.
  Result<ServerToken> LoadToken(const std::string& name);

 private:
  DepServerInfo ToInfo(const store::DepServerRecord& r) const;

  store::DepStore& store_;
  const SecretBox& box_;
  Clock& clock_;
  net::H1Client& http_;
  std::mutex mu_;
};

}  // namespace mdmgw::dep

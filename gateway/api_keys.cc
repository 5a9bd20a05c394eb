#include "gateway/api_keys.h"

#include <openssl/crypto.h>

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "common/random.h"

namespace mdmgw::gateway {
namespace {
constexpr std::string_view kPrefix = "mdmgw_";
constexpr int64_t kTouchIntervalSeconds = 60;
}  // namespace

Result<CreatedApiKey> ApiKeys::Create(std::string_view name, std::string_view scope) {
  if (scope != kAdminScope && scope != kReadScope) {
    return Status::InvalidArgument(
        "API key scope must be \"admin\" or \"read\", not \"" + std::string(scope) + "\"",
        "invalid_scope");
  }
  if (name.empty() || name.size() > 100) {
    return Status::InvalidArgument("API key name must be 1 to 100 characters", "invalid_name");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("API key name must not contain control characters",
                                     "invalid_name");
    }
  }
  Secret<std::string> key(std::string(kPrefix) + RandomToken(32));
  store::ApiKeyRecord record;
  record.id = "k_" + HexEncode(RandomBytes(8));
  record.name = std::string(name);
  record.key_hash = crypto::Sha256(key.Expose());
  record.created_at = clock_.NowUnixSeconds();
  record.scope = std::string(scope);
  MDMGW_RETURN_IF_ERROR(store_.CreateApiKey(record));
  return CreatedApiKey{std::move(record), std::move(key)};
}

Result<store::ApiKeyRecord> ApiKeys::Authenticate(std::string_view authorization) {
  if (authorization.empty()) {
    return Status::Unauthenticated("missing Authorization: Bearer <API key>", "unauthenticated");
  }
  auto scheme_is = [authorization](std::string_view scheme) {
    return authorization.size() > scheme.size() &&
           std::equal(scheme.begin(), scheme.end(), authorization.begin(), [](char a, char b) {
             // unsigned char: a header byte above 0x7f must not reach tolower as negative
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  Secret<std::string> key;
  if (scheme_is("Bearer ")) {
    key = Secret<std::string>(std::string(authorization.substr(7)));
  } else if (scheme_is("Basic ")) {
    // NanoMDM's API takes HTTP Basic with the key as the password ("nanomdm:<key>"); cores and
    // scripts written for it call /v1/push and /v1/pushcert that way.
    auto decoded = Base64Decode(authorization.substr(6));
    size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Status::Unauthenticated("Authorization: Basic must carry user:<API key>",
                                     "unauthenticated");
    }
    key = Secret<std::string>(decoded->substr(colon + 1));
    OPENSSL_cleanse(decoded->data(), decoded->size());
  } else {
    return Status::Unauthenticated("Authorization must be 'Bearer <API key>'", "unauthenticated");
  }
  std::string hash = crypto::Sha256(key.Expose());
  auto record = store_.FindApiKeyByHash(hash);
  if (!record.ok()) {
    if (record.status().IsNotFound())
      return Status::Unauthenticated("invalid API key", "unauthenticated");
    return record.status();
  }
  // The lookup matched by hash already; compare again in constant time so no future change to the
  // lookup (say, a prefix index) can turn into a timing oracle.
  if (!crypto::ConstantTimeEquals(hash, record->key_hash)) {
    return Status::Unauthenticated("invalid API key", "unauthenticated");
  }
  if (record->revoked_at) {
    return Status::Unauthenticated("API key has been revoked", "unauthenticated");
  }
  int64_t now = clock_.NowUnixSeconds();
  bool touch = false;
  {
    std::lock_guard lock(mu_);
    int64_t& last = last_touch_[record->id];
    if (now - last >= kTouchIntervalSeconds) {
      last = now;
      touch = true;
    }
  }
  if (touch) (void)store_.TouchApiKey(record->id, now);  // best effort: bookkeeping only
  return record;
}

}  // namespace mdmgw::gateway

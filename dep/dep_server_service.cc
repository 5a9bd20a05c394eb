#include "dep/dep_server_service.h"

#include "common/names.h"

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/seal_contexts.h"
#include "dep/dep_client.h"
#include "net/url.h"

namespace mdmgw::dep {
namespace {

Status CheckName(const std::string& name) {
  if (!IsPlainName(name)) {
    return Status::InvalidArgument("a DEP server name is 1 to 64 of A-Z a-z 0-9 . _ -", "bad_name");
  }
  return Status::Ok();
}

}  // namespace

DepServerService::DepServerService(store::DepStore& store, const SecretBox& box, Clock& clock,
                                   net::H1Client& http)
    : store_(store), box_(box), clock_(clock), http_(http) {}

Result<DepServerInfo> DepServerService::Upsert(const std::string& name,
                                               const DepServerSettings& settings) {
  MDMGW_RETURN_IF_ERROR(CheckName(name));
  if (settings.base_url) {
    auto url = net::ParseUrl(*settings.base_url);
    if (!url.ok()) {
      return Status::InvalidArgument("base_url: " + url.status().message(), "bad_base_url");
    }
  }
  if (settings.sync_interval_seconds &&
      (*settings.sync_interval_seconds < 60 || *settings.sync_interval_seconds > 7 * 86400)) {
    return Status::InvalidArgument("sync_interval_seconds must be 60 to 604800",
                                   "bad_sync_interval");
  }
  std::lock_guard lock(mu_);
  auto existing = store_.GetDepServer(name);
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  store::DepServerRecord r;
  bool created = !existing.ok();
  if (created) {
    r.name = name;
    r.base_url = std::string(kAppleDepBaseUrl);
    r.created_at = clock_.NowUnixSeconds();
  } else {
    r = *existing;
  }
  if (settings.base_url) r.base_url = *settings.base_url;
  if (settings.sync_interval_seconds) r.sync_interval_seconds = *settings.sync_interval_seconds;
  r.updated_at = clock_.NowUnixSeconds();
  MDMGW_RETURN_IF_ERROR(store_.PutDepServer(r));
  DepServerInfo info = ToInfo(r);
  info.created = created;
  return info;
}

Result<DepServerInfo> DepServerService::Info(const std::string& name) {
  auto r = store_.GetDepServer(name);
  if (!r.ok()) return r.status();
  return ToInfo(*r);
}

Result<std::vector<DepServerInfo>> DepServerService::List() {
  auto list = store_.ListDepServers();
  if (!list.ok()) return list.status();
  std::vector<DepServerInfo> out;
  for (const auto& r : *list) out.push_back(ToInfo(r));
  return out;
}

Status DepServerService::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  return store_.DeleteDepServer(name);
}

Result<std::string> DepServerService::Certificate(const std::string& name) {
  std::lock_guard lock(mu_);
  auto r = store_.GetDepServer(name);
  if (!r.ok()) return r.status();
  if (!r->cert_pem.empty()) return r->cert_pem;
  auto identity = GenerateTokenExchangeIdentity("mdm-gateway DEP " + name);
  if (!identity.ok()) return identity.status();
  r->cert_pem = identity->cert_pem;
  r->sealed_key = box_.Seal(identity->key_pem.Expose(), seal_context::DepKey(name));
  r->updated_at = clock_.NowUnixSeconds();
  MDMGW_RETURN_IF_ERROR(store_.PutDepServer(*r));
  log::Info("dep: token-exchange certificate generated", {{"server", name}});
  return r->cert_pem;
}

Result<DepServerInfo> DepServerService::UploadToken(const std::string& name, std::string_view p7m,
                                                    bool force) {
  std::lock_guard lock(mu_);
  auto r = store_.GetDepServer(name);
  if (!r.ok()) return r.status();
  if (r->cert_pem.empty()) {
    return Status::FailedPrecondition(
        "no token-exchange certificate yet: GET /api/v1/dep/servers/" + name +
            "/certificate, upload it to Apple Business Manager, then upload the token it gives",
        "no_certificate");
  }
  auto key = box_.Open(r->sealed_key, seal_context::DepKey(name));
  if (!key.ok()) return key.status().WithContext("opening the token-exchange key");
  auto token = DecryptServerToken(p7m, r->cert_pem, *key, clock_.NowUnixSeconds());
  if (!token.ok()) return token.status();
  if (!r->consumer_key.empty() && r->consumer_key != token->consumer_key && !force) {
    return Status::FailedPrecondition(
        "this token belongs to another MDM server in Apple Business Manager (consumer key " +
            token->consumer_key + ", stored " + r->consumer_key +
            "): its devices would be a different set. Repeat with ?force=1 to switch",
        "consumer_key_changed");
  }
  DepClient client(http_, r->base_url, CredentialsOf(*token), clock_);
  auto account = client.Account();
  if (!account.ok()) {
    return account.status().WithContext("confirming the token with " + r->base_url +
                                        "/account (nothing was stored)");
  }
  r->server_uuid = account->server_uuid;
  r->server_name = account->server_name;
  r->org_name = account->org_name;
  nlohmann::json secrets = {{"consumer_secret", token->consumer_secret.Expose()},
                            {"access_token", token->access_token.Expose()},
                            {"access_secret", token->access_secret.Expose()}};
  std::string plain = secrets.dump();
  r->sealed_token = box_.Seal(plain, seal_context::DepToken(name));
  OPENSSL_cleanse(plain.data(), plain.size());
  r->consumer_key = token->consumer_key;
  r->token_expiry = token->access_token_expiry;
  r->token_uploaded_at = clock_.NowUnixSeconds();
  r->updated_at = r->token_uploaded_at;
  MDMGW_RETURN_IF_ERROR(store_.PutDepServer(*r));
  log::Info("dep: server token stored", {{"server", name},
                                         {"consumer_key", r->consumer_key},
                                         {"expiry", r->token_expiry},
                                         {"apple_server_name", r->server_name},
                                         {"org", r->org_name}});
  return ToInfo(*r);
}

Result<ServerToken> DepServerService::LoadToken(const std::string& name) {
  auto r = store_.GetDepServer(name);
  if (!r.ok()) return r.status();
  if (r->sealed_token.empty()) return Status::NotFound("DEP server " + name + " has no token");
  auto plain = box_.Open(r->sealed_token, seal_context::DepToken(name));
  if (!plain.ok()) return plain.status().WithContext("opening the DEP token");
  auto doc = nlohmann::json::parse(plain->Expose(), nullptr, false);
  if (!doc.is_object()) return Status::DataLoss("the stored DEP token is not JSON");
  ServerToken t;
  t.consumer_key = r->consumer_key;
  t.consumer_secret = Secret<std::string>(doc.value("consumer_secret", std::string()));
  t.access_token = Secret<std::string>(doc.value("access_token", std::string()));
  t.access_secret = Secret<std::string>(doc.value("access_secret", std::string()));
  t.access_token_expiry = r->token_expiry;
  return t;
}

DepServerInfo DepServerService::ToInfo(const store::DepServerRecord& r) const {
  DepServerInfo i;
  i.name = r.name;
  i.base_url = r.base_url;
  i.sync_interval_seconds = r.sync_interval_seconds;
  i.has_token = !r.consumer_key.empty();
  i.consumer_key = r.consumer_key;
  i.token_expiry = r.token_expiry;
  i.token_days_left = i.has_token ? (r.token_expiry - clock_.NowUnixSeconds()) / 86400 : 0;
  i.token_uploaded_at = r.token_uploaded_at;
  i.server_uuid = r.server_uuid;
  i.server_name = r.server_name;
  i.org_name = r.org_name;
  return i;
}

}  // namespace mdmgw::dep

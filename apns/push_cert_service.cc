#include "apns/push_cert_service.h"

#include "apns/push_csr.h"
#include "common/log.h"
#include "common/seal_contexts.h"

namespace mdmgw::apns {

PushCertService::PushCertService(store::PushCertStore& store, const SecretBox& box, Clock& clock,
                                 metrics::Registry* registry)
    : store_(store), box_(box), clock_(clock) {
  if (registry != nullptr) {
    expiry_seconds_ = &registry
                           ->AddGauge("mdmgw_apns_cert_expiry_seconds",
                                      "Seconds until the APNs push certificate expires (negative: "
                                      "expired; absent value 0 with no certificate)")
                           .WithLabels({});
  }
}

Result<PushCertInfo> PushCertService::Upload(const PushCertUpload& upload) {
  std::lock_guard upload_lock(upload_mu_);
  int64_t now = clock_.NowUnixSeconds();
  std::optional<Secret<std::string>> pending_key;
  Result<PushCertificate> parsed = Status::Internal("unset");
  if (!upload.pkcs12.empty()) {
    parsed = ParsePkcs12PushCertificate(upload.pkcs12, upload.password.Expose(), now);
  } else {
    std::string key_part = upload.key_pem;
    bool key_in_upload = upload.pem.find("PRIVATE KEY-----") != std::string::npos ||
                         key_part.find("PRIVATE KEY-----") != std::string::npos;
    if (!key_in_upload) {
      // The certificate Apple returned for a CSR this gateway generated: use the pending key.
      auto pending = store_.GetPendingCsr();
      if (pending.ok()) {
        auto opened = box_.Open(pending->sealed_key, seal_context::kApnsCsrKey);
        if (!opened.ok()) return opened.status().WithContext("opening the pending CSR key");
        pending_key = std::move(opened).value();
        key_part = pending_key->Expose();
      } else if (!pending.status().IsNotFound()) {
        return pending.status();
      }
    }
    parsed = ParsePemPushCertificate(upload.pem, key_part, upload.password.Expose(), now);
  }
  if (!parsed.ok()) return parsed.status();
  PushCertificate& cert = parsed.value();

  auto stored = store_.GetPushCert();
  if (!stored.ok() && !stored.status().IsNotFound()) return stored.status();
  std::string stored_topic = stored.ok() ? stored->topic : "";
  Status continuity = CheckTopicContinuity(stored_topic, cert.topic, upload.force);
  if (!continuity.ok()) {
    if (stored.ok() && !stored->apple_id.empty()) {
      return Status(continuity)
          .WithContext("the stored certificate was created by Apple ID " + stored->apple_id);
    }
    return continuity;
  }

  store::PushCertRecord record;
  record.topic = cert.topic;
  record.cert_pem = cert.cert_pem;
  record.sealed_key = box_.Seal(cert.key_pem.Expose(), seal_context::ApnsKey(cert.topic));
  record.not_after = cert.not_after;
  record.not_before = cert.not_before;
  record.updated_at = now;
  record.subject = cert.subject;
  record.serial = cert.serial;
  record.apple_id = !upload.apple_id.empty()                       ? upload.apple_id
                    : (stored.ok() && stored->topic == cert.topic) ? stored->apple_id
                                                                   : "";
  MDMGW_RETURN_IF_ERROR(store_.PutPushCert(record));
  if (pending_key) {
    Status cleared = store_.DeletePendingCsr();
    if (!cleared.ok())
      log::Warn("apns: could not clear the used CSR key", {{"error", cleared.ToString()}});
  }
  PushCertInfo info = ToInfo(record);
  info.topic_changed = !stored_topic.empty() && stored_topic != cert.topic;
  log::Info("apns: push certificate stored", {{"topic", record.topic},
                                              {"serial", record.serial},
                                              {"not_after", record.not_after},
                                              {"renewal", stored.ok()},
                                              {"topic_changed", info.topic_changed}});
  Notify(&cert);
  CheckExpiry();
  return info;
}

Result<PushCertInfo> PushCertService::Info() {
  auto stored = store_.GetPushCert();
  if (!stored.ok()) return stored.status();
  return ToInfo(*stored);
}

Status PushCertService::Delete() {
  std::lock_guard upload_lock(upload_mu_);
  MDMGW_RETURN_IF_ERROR(store_.DeletePushCert());
  log::Warn("apns: push certificate deleted; pushes stop until a new one is uploaded");
  Notify(nullptr);
  if (expiry_seconds_ != nullptr) expiry_seconds_->Set(0);
  return Status::Ok();
}

Result<PushCertificate> PushCertService::LoadActive() {
  auto stored = store_.GetPushCert();
  if (!stored.ok()) return stored.status();
  auto key = box_.Open(stored->sealed_key, seal_context::ApnsKey(stored->topic));
  if (!key.ok()) return key.status().WithContext("opening the push certificate key");
  PushCertificate cert;
  cert.topic = stored->topic;
  cert.subject = stored->subject;
  cert.serial = stored->serial;
  cert.not_before = stored->not_before;
  cert.not_after = stored->not_after;
  cert.cert_pem = stored->cert_pem;
  cert.key_pem = std::move(key).value();
  return cert;
}

Result<std::string> PushCertService::CreateCsr(const std::string& common_name,
                                               const std::string& email) {
  auto csr = GeneratePushCsr(common_name, email);
  if (!csr.ok()) return csr.status();
  store::PendingCsrRecord record{csr->csr_pem,
                                 box_.Seal(csr->key_pem.Expose(), seal_context::kApnsCsrKey),
                                 clock_.NowUnixSeconds()};
  MDMGW_RETURN_IF_ERROR(store_.PutPendingCsr(record));
  log::Info("apns: CSR generated; its key is kept sealed until the signed certificate arrives",
            {{"common_name", common_name}});
  return csr->csr_pem;
}

void PushCertService::AddChangeListener(ChangeListener listener) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(listener));
}

void PushCertService::Notify(const PushCertificate* cert) {
  std::vector<ChangeListener> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = listeners_;
  }
  for (auto& l : listeners) l(cert);
}

Status PushCertService::ReloadFromStore() {
  std::lock_guard upload_lock(upload_mu_);
  auto active = LoadActive();
  if (!active.ok() && !active.status().IsNotFound()) return active.status();
  if (active.ok()) {
    log::Info("apns: using the push certificate another instance stored",
              {{"topic", active->topic}, {"serial", active->serial}});
    Notify(&*active);
  } else {
    log::Info("apns: another instance removed the push certificate; pushes stop");
    Notify(nullptr);
  }
  (void)CheckExpiry(false);
  return Status::Ok();
}

std::optional<int64_t> PushCertService::CheckExpiry(bool warn) {
  auto stored = store_.GetPushCert();
  if (!stored.ok()) {
    if (expiry_seconds_ != nullptr) expiry_seconds_->Set(0);
    return std::nullopt;
  }
  int64_t now = clock_.NowUnixSeconds();
  int64_t seconds_left = stored->not_after - now;
  if (expiry_seconds_ != nullptr) expiry_seconds_->Set(static_cast<double>(seconds_left));
  int64_t days_left = seconds_left / 86400;
  if (!warn) return days_left;
  for (int threshold : {1, 7, 14, 30}) {
    if (seconds_left > static_cast<int64_t>(threshold) * 86400) continue;
    std::string key = stored->serial + ":" + std::to_string(threshold);
    {
      std::lock_guard lock(mu_);
      if (!expiry_warnings_logged_.insert(key).second) break;
    }
    log::Warn(seconds_left <= 0 ? "apns: the push certificate has EXPIRED; pushes fail until it "
                                  "is renewed"
                                : "apns: the push certificate expires soon; renew it at "
                                  "identity.apple.com with the same Apple ID",
              {{"topic", stored->topic},
               {"days_left", days_left},
               {"threshold_days", threshold},
               {"apple_id", stored->apple_id}});
    break;  // the smallest threshold crossed is the one worth saying
  }
  return days_left;
}

PushCertInfo PushCertService::ToInfo(const store::PushCertRecord& r) const {
  PushCertInfo info;
  info.topic = r.topic;
  info.subject = r.subject;
  info.serial = r.serial;
  info.not_before = r.not_before;
  info.not_after = r.not_after;
  info.days_left = (r.not_after - clock_.NowUnixSeconds()) / 86400;
  info.apple_id = r.apple_id;
  info.updated_at = r.updated_at;
  return info;
}

}  // namespace mdmgw::apns

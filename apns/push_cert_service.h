// PushCertService: the push certificate's lifecycle behind the admin API. Validates uploads
// (apns/push_certificate), guards the topic on renewal, seals the key, stores the record, tells
// the push client pool to use the new identity at once, and watches expiry.
//
// Thread-safety: all methods are thread-safe (the store serialises; the listener list and the
// expiry bookkeeping are guarded).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "apns/push_certificate.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/secret_box.h"
#include "store/push_cert_store.h"

namespace mdmgw::apns {

struct PushCertUpload {
  std::string pem;      // certificate PEM (key may be concatenated)
  std::string key_pem;  // separate key part, may be empty
  std::string pkcs12;   // DER bytes; when set, |pem| and |key_pem| are ignored
  Secret<std::string> password;
  std::string apple_id;  // recorded when given; kept from the stored record otherwise
  bool force = false;    // allow a topic change
};

// What the API shows (never the key).
struct PushCertInfo {
  std::string topic;
  std::string subject;
  std::string serial;
  int64_t not_before = 0;
  int64_t not_after = 0;
  int64_t days_left = 0;
  std::string apple_id;
  int64_t updated_at = 0;
  bool topic_changed = false;  // this upload replaced a different topic (forced)
};

class PushCertService {
 public:
  // Called with the new active certificate (or nullptr after Delete) once it is stored.
  using ChangeListener = std::function<void(const PushCertificate*)>;

  PushCertService(store::PushCertStore& store, const SecretBox& box, Clock& clock,
                  metrics::Registry* registry = nullptr);

  Result<PushCertInfo> Upload(const PushCertUpload& upload);
  Result<PushCertInfo> Info();
  Status Delete();
  // The stored certificate with its key opened (for the APNs client). NotFound when none.
  Result<PushCertificate> LoadActive();

  // POST /api/v1/apns/csr: a new key (sealed, pending) and its CSR PEM.
  Result<std::string> CreateCsr(const std::string& common_name, const std::string& email);

  void AddChangeListener(ChangeListener listener);

  // Updates the expiry metric and, with |warn|, logs a warning when a 30/14/7/1-day threshold is
  // crossed (once per certificate and threshold; of several instances only one warns). Returns
  // the days left, or nullopt with no certificate.
  std::optional<int64_t> CheckExpiry(bool warn = true);

  // Another instance stored or removed the certificate: read it again and tell the listeners (the
  // push client switches identity, profiles get the topic), as an upload here would.
  Status ReloadFromStore();

 private:
  PushCertInfo ToInfo(const store::PushCertRecord& record) const;
  void Notify(const PushCertificate* cert);

  store::PushCertStore& store_;
  const SecretBox& box_;
  Clock& clock_;
  metrics::Gauge* expiry_seconds_ = nullptr;  // mdmgw_apns_cert_expiry_seconds
  std::mutex upload_mu_;                      // one upload at a time: check-then-store
  std::mutex mu_;
  std::vector<ChangeListener> listeners_;         // GUARDED_BY(mu_)
  std::set<std::string> expiry_warnings_logged_;  // serial:threshold, GUARDED_BY(mu_)
};

}  // namespace mdmgw::apns

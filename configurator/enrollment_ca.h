// EnrollmentCa: the gateway's own CA for device identities (an enrollment profile's "pkcs12"
// identity mode, for organisations without a SCEP or ACME server). Its key is generated once
// (P-256, 10 years), sealed in the store, and shared by every instance; each profile build
// gets a fresh device identity — an RSA-2048 key (what every Apple OS takes in a PKCS#12 payload)
// and a client certificate from this CA — packed as PKCS#12 with a random password (legacy
// SHA1/3DES PBE and a SHA-1 MAC, the encoding Apple's profile installer reads on every OS).
// After the first identity, RSA keys are generated ahead on a background thread, so a burst of
// enrollments does not wait ~50 ms per key. The CA certificate is what device mTLS and
// Mdm-Signature trust (issue 6).
//
// Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/crypto/openssl_ptr.h"
#include "common/result.h"
#include "common/secret_box.h"
#include "store/profile_store.h"

namespace mdmgw::configurator {

struct DeviceIdentity {
  std::string pkcs12_der;
  std::string password;
  std::string serial_hex;  // the certificate's serial
};

class EnrollmentCa {
 public:
  // Loads the CA from |store| or makes it (the first instance to store it wins).
  static Result<std::unique_ptr<EnrollmentCa>> LoadOrCreate(store::ProfileStore& store,
                                                            const SecretBox& box,
                                                            size_t spare_keys = 8);
  ~EnrollmentCa();

  // A fresh identity valid |days|, CN |common_name|.
  Result<DeviceIdentity> Issue(const std::string& common_name, int days = 730);
  const std::string& cert_pem() const { return cert_pem_; }

 private:
  EnrollmentCa() = default;
  crypto::EvpPkeyPtr TakeKey();
  void FillLoop();

  crypto::X509Ptr cert_;
  crypto::EvpPkeyPtr key_;
  std::string cert_pem_;
  size_t spare_keys_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<crypto::EvpPkeyPtr> spare_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                 // GUARDED_BY(mu_)
  std::thread filler_;
};

}  // namespace mdmgw::configurator

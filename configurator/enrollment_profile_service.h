// EnrollmentProfileService: the admin's enrollment profiles (create, update, list, delete over
// the ProfileStore, with the method table enforced), and their signed .mobileconfig: built from
// the profile, the push certificate's topic and the gateway's URLs, cached per profile
// version, given fresh PayloadUUIDs and signed per request. Also the Apple Configurator exports.
//
// Thread-safety: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_box.h"
#include "configurator/enrollment_ca.h"
#include "configurator/enrollment_profile.h"
#include "configurator/mobileconfig.h"
#include "configurator/profile_signer.h"
#include "configurator/serial_import.h"
#include "store/profile_store.h"

namespace mdmgw::configurator {

class EnrollmentProfileService {
 public:
  // |anchor_certs_der|: the certificates a device must trust for the gateway's TLS (put in every
  // profile and in the usb-sa export); empty when the server certificate chains to a public CA.
  // |ca| (may be null: then pkcs12 profiles cannot be built) issues pkcs12 identities.
  EnrollmentProfileService(store::ProfileStore& profiles, const SecretBox& box,
                           const ProfileSigner& signer, EnrollmentCa* ca,
                           std::vector<std::string> anchor_certs_der, std::string public_url,
                           Clock& clock = Clock::System());

  Result<EnrollmentProfile> Create(const nlohmann::json& body);
  Result<EnrollmentProfile> Update(const std::string& id_or_name, const nlohmann::json& body);
  Result<EnrollmentProfile> Get(const std::string& id_or_name);
  Result<std::vector<EnrollmentProfile>> List();
  Status Delete(const std::string& id_or_name);

  // The signed .mobileconfig (DER CMS SignedData) for a profile. |device| (e.g. the UDID from
  // MachineInfo) names a pkcs12 identity's certificate when known.
  Result<std::string> SignedProfile(const std::string& id_or_name, const std::string& device = "");
  // The same for a profile already read (the device routes read it to check its method).
  Result<std::string> SignedProfile(const EnrollmentProfile& p, const std::string& device = "");
  // The unsigned XML a signed profile carries (tests, previews).
  Result<std::string> ProfileXml(const std::string& id_or_name, const std::string& device = "");
  Result<std::string> ProfileXml(const EnrollmentProfile& p, const std::string& device = "");
  // The URL Setup Assistant POSTs MachineInfo to for this profile (dep and usb-sa).
  std::string EnrollmentUrl(const EnrollmentProfile& p) const;
  // Apple Configurator "usb-sa" export: the Profile URL to enter in Configurator's Servers
  // preference, the server name, and the trust anchors (PEM and DER base64).
  Result<nlohmann::json> UsbSaExport(const std::string& id_or_name);
  // The same as a zip: enrollment-url.txt, anchor-N.cer, serials.csv, README.txt.
  Result<std::string> UsbSaZip(const std::string& id_or_name);

  // Replaces a usb-sa profile's serial list from Apple Configurator's CSV. Nothing is stored when
  // any line is bad: the result's errors say which and why.
  Result<SerialImport> ImportSerials(const std::string& id_or_name, std::string_view csv);
  Result<std::vector<std::pair<std::string, std::string>>> Serials(const std::string& id_or_name);

  void SetPublicUrl(std::string public_url);
  // The stored push certificate's topic ("" when none): set at start and by the push certificate
  // service on every upload or removal, so building a profile reads no certificate.
  void SetPushTopic(std::string topic);
  // Drops the built profiles: another instance changed or removed one (its updated_at may fall in
  // the same second as the cached build's, so the cache's own check would not see it).
  void ForgetBuiltProfiles();
  const std::vector<std::string>& anchor_certs_der() const { return anchors_; }

 private:
  Result<std::shared_ptr<const MobileconfigTemplate>> TemplateFor(const EnrollmentProfile& p);
  Status CheckGroupsExist(const EnrollmentProfile& p);

  store::ProfileStore& profiles_;
  const SecretBox& box_;
  const ProfileSigner& signer_;
  EnrollmentCa* ca_;
  std::vector<std::string> anchors_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::string public_url_;  // GUARDED_BY(mu_)
  std::string push_topic_;  // GUARDED_BY(mu_)
  struct Cached {
    int64_t updated_at = 0;
    std::string topic;
    std::string public_url;
    std::shared_ptr<const MobileconfigTemplate> tmpl;
  };
  std::map<std::string, Cached> cache_;  // GUARDED_BY(mu_), by profile id
};

}  // namespace mdmgw::configurator

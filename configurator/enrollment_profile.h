// EnrollmentProfile: what an admin's enrollment profile says — method and the flags the method
// table allows, organisation and support contacts, Setup Assistant skip items, how the device
// gets its identity, pilot groups — parsed from the admin API's JSON with clear refusals, and its
// stored form. The SCEP challenge is a secret: kept sealed, never returned.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_box.h"
#include "configurator/enrollment_methods.h"
#include "store/profile_store.h"

namespace mdmgw::configurator {

struct IdentitySettings {
  std::string mode;  // "pkcs12" (the gateway's enrollment CA; default), "scep", or "acme"
  // scep
  std::string url;               // SCEP URL, or ACME directory URL
  std::string sealed_challenge;  // SecretBox(challenge, "profile.scep:" + id), base64; "" = none
  int key_size = 2048;
  std::string subject_cn;  // CN of the requested certificate; default "mdm-gateway device"
  // acme
  std::string client_identifier;
  std::string key_type = "ECSECPrimeRandom";  // or RSA
  bool hardware_bound = true;
};

struct EnrollmentProfile {
  std::string id;
  std::string name;
  EnrollmentMethod method = EnrollmentMethod::kOta;
  ResolvedFlags flags;
  bool await_configuration = false;
  std::string organization, department, support_phone, support_email, description;
  std::vector<std::string> skip_setup_items;
  IdentitySettings identity;
  std::vector<std::string> pilot_groups;
  // Setup Assistant enrollments (dep, usb-sa) below this OS version are told to update first
  // (Apple's com.apple.softwareupdate.required) when the device says it can. "" = no rule.
  std::string min_os_version;
  int64_t created_at = 0, updated_at = 0;

  // The admin API's view (no secrets: "challenge_set" instead of the challenge).
  nlohmann::json ToJson() const;
  store::EnrollmentProfileRecord ToRecord() const;
};

// Parses a create (|base| null) or an update (|base| = the stored profile; absent keys keep its
// values) from the admin API. InvalidArgument naming the field; "method_rule" for combinations
// the method table forbids. A new SCEP challenge is sealed with |box| under the profile's id.
Result<EnrollmentProfile> ParseEnrollmentProfile(const nlohmann::json& body,
                                                 const EnrollmentProfile* base,
                                                 const std::string& id, const SecretBox& box);
Result<EnrollmentProfile> EnrollmentProfileFromRecord(const store::EnrollmentProfileRecord& r);
// -1, 0, 1 comparing dotted versions numerically ("17.1" < "17.10"; missing parts are 0).
int CompareOsVersions(const std::string& a, const std::string& b);

// The SCEP challenge in clear (for building the profile), "" when none.
Result<std::string> OpenScepChallenge(const EnrollmentProfile& p, const SecretBox& box);

}  // namespace mdmgw::configurator

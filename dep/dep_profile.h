// The DEP (ADE) profile Apple stores and hands to a device in Setup Assistant (PROTOCOLS.md §2
// "Profile (define) fields"), built from an admin's request and checked against Apple's own
// field limits before anything is sent, so a mistake is named here rather than as Apple's bare
// CONFIG_NAME_INVALID. Unknown keys are refused (a typo must not be dropped silently); Setup
// Assistant skip keys Apple has not published (apple/device-management other/skipkeys.yaml) pass
// with a warning, since Apple adds keys every year.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace mdmgw::dep {

struct DepProfileDefaults {
  std::string profile_name;  // used when the request has none
  std::string url;           // the gateway's DEP enrollment URL for this profile
  // Trust anchors for `url`'s TLS (base64 DER) when the request gives none: the gateway's own
  // self-signed server certificate, which a device in Setup Assistant would otherwise refuse.
  std::vector<std::string> anchor_certs;
};

struct DepProfileBuild {
  nlohmann::json profile;            // the JSON for POST /profile (without devices)
  std::vector<std::string> devices;  // serials to assign at define time
  std::vector<std::string> warnings;
};

// |request| is a JSON object of Apple's profile keys (every one optional but the defaults'
// profile_name/url). InvalidArgument with reason "profile_invalid" naming the field and Apple's
// error code on a value Apple would refuse.
Result<DepProfileBuild> BuildDepProfile(const nlohmann::json& request,
                                        const DepProfileDefaults& defaults);

// Setup Assistant skip keys Apple documents (other/skipkeys.yaml).
bool IsKnownSkipKey(const std::string& key);

}  // namespace mdmgw::dep

#include "dep/dep_profile.h"

#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "common/encoding.h"

namespace mdmgw::dep {
namespace {

constexpr std::array<std::string_view, 45> kSkipKeys = {
    "Accessibility",
    "ActionButton",
    "Android",
    "Appearance",
    "AppleID",
    "AppStore",
    "Biometric",
    "CameraButton",
    "DeviceToDeviceMigration",
    "Diagnostics",
    "DisplayTone",
    "EnableLockdownMode",
    "FileVault",
    "HomeButtonSensitivity",
    "iCloudDiagnostics",
    "iCloudStorage",
    "iMessageAndFaceTime",
    "Intelligence",
    "Keyboard",
    "Location",
    "MessagingActivationUsingPhoneNumber",
    "OnBoarding",
    "Passcode",
    "Payment",
    "Privacy",
    "Restore",
    "RestoreCompleted",
    "ScreenSaver",
    "Safety",
    "ScreenTime",
    "SIMSetup",
    "Siri",
    "SoftwareUpdate",
    "SpokenLanguage",
    "TapToSetup",
    "TermsOfAddress",
    "TOS",
    "TVHomeScreenSync",
    "TVProviderSignIn",
    "TVRoom",
    "UpdateCompleted",
    "Wallpaper",
    "WatchMigration",
    "Welcome",
    "Zoom",
};

constexpr std::array<std::string_view, 9> kBoolKeys = {
    "allow_pairing",       "is_supervised",
    "is_multi_user",       "is_mandatory",
    "is_mdm_removable",    "await_device_configured",
    "auto_advance_setup",  "do_not_use_profile_from_backup",
    "is_return_to_service"};

// String fields and Apple's limits (characters; 0 = no documented limit) with Apple's error code.
struct StringRule {
  std::string_view key;
  size_t max_chars;
  std::string_view apple_code;
};
constexpr std::array<StringRule, 9> kStringRules = {{
    {"profile_name", 125, "CONFIG_NAME_INVALID"},
    {"url", 2000, "CONFIG_URL_INVALID"},
    {"configuration_web_url", 2000, "CONFIG_URL_INVALID"},
    {"department", 125, "DEPARTMENT_INVALID"},
    {"support_phone_number", 50, "SUPPORT_PHONE_INVALID"},
    {"support_email_address", 250, "SUPPORT_EMAIL_INVALID"},
    {"org_magic", 256, "MAGIC_INVALID"},
    {"language", 0, "LOCALE_INVALID"},
    {"region", 0, "LOCALE_INVALID"},
}};

// Characters, not bytes: Apple counts UTF-8 characters. Invalid UTF-8 returns npos.
size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return std::string_view::npos;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return std::string_view::npos;
    }
    i += len;
    ++n;
  }
  return n;
}

Status Invalid(const std::string& field, const std::string& why, std::string_view apple_code) {
  return Status::InvalidArgument(
      field + " " + why + " (Apple would answer " + std::string(apple_code) + ")",
      "profile_invalid");
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

Status CheckCertList(const nlohmann::json& list, const std::string& key,
                     std::vector<std::string>* out) {
  if (!list.is_array()) return Invalid(key, "must be a list of base64 DER certificates", "");
  for (const auto& item : list) {
    if (!item.is_string()) return Invalid(key, "must be a list of base64 DER certificates", "");
    auto der = Base64Decode(item.get<std::string>());
    if (!der.ok())
      return Invalid(key, "holds an entry that is not base64", "MALFORMED_REQUEST_BODY");
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
    if (cert == nullptr) {
      return Invalid(key, "holds an entry that is not a DER X.509 certificate",
                     "MALFORMED_REQUEST_BODY");
    }
    X509_free(cert);
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

bool IsKnownSkipKey(const std::string& key) {
  return std::find(kSkipKeys.begin(), kSkipKeys.end(), key) != kSkipKeys.end();
}

Result<DepProfileBuild> BuildDepProfile(const nlohmann::json& request,
                                        const DepProfileDefaults& defaults) {
  if (!request.is_object()) {
    return Status::InvalidArgument("the profile must be a JSON object", "bad_request");
  }
  DepProfileBuild out;
  nlohmann::json& p = out.profile;
  p = nlohmann::json::object();
  for (const auto& [key, value] : request.items()) {
    if (key == "devices") {
      if (!value.is_array()) return Invalid("devices", "must be a list of serial numbers", "");
      for (const auto& s : value) {
        if (!s.is_string() || s.get<std::string>().empty())
          return Invalid("devices", "must be a list of serial numbers", "DEVICE_ID_REQUIRED");
        out.devices.push_back(s.get<std::string>());
      }
      continue;
    }
    if (std::find(kBoolKeys.begin(), kBoolKeys.end(), key) != kBoolKeys.end()) {
      if (!value.is_boolean()) return Invalid(key, "must be true or false", "FLAGS_INVALID");
      p[key] = value;
      continue;
    }
    // Captured by init-capture: clang 14 (the fuzz build) cannot capture a structured binding.
    auto rule = std::find_if(kStringRules.begin(), kStringRules.end(),
                             [&k = key](const StringRule& r) { return r.key == k; });
    if (rule != kStringRules.end()) {
      if (!value.is_string()) return Invalid(key, "must be a string", rule->apple_code);
      p[key] = value;
      continue;
    }
    if (key == "skip_setup_items") {
      if (!value.is_array()) return Invalid(key, "must be a list of skip keys", "");
      std::set<std::string> seen;
      nlohmann::json items = nlohmann::json::array();
      for (const auto& item : value) {
        if (!item.is_string() || item.get<std::string>().empty())
          return Invalid(key, "must be a list of skip keys (strings)", "MALFORMED_REQUEST_BODY");
        std::string k = item.get<std::string>();
        if (!seen.insert(k).second) continue;  // a repeat changes nothing at Apple
        if (!IsKnownSkipKey(k)) {
          out.warnings.push_back("skip_setup_items: \"" + k +
                                 "\" is not a skip key Apple documents; sent as given");
        }
        items.push_back(k);
      }
      p[key] = items;
      continue;
    }
    if (key == "anchor_certs" || key == "supervising_host_certs") {
      std::vector<std::string> certs;
      MDMGW_RETURN_IF_ERROR(CheckCertList(value, key, &certs));
      p[key] = certs;
      continue;
    }
    return Status::InvalidArgument("unknown DEP profile field \"" + key + "\"", "profile_invalid");
  }
  if (!p.contains("profile_name")) p["profile_name"] = defaults.profile_name;
  if (!p.contains("url")) p["url"] = defaults.url;
  if (!p.contains("anchor_certs") && !defaults.anchor_certs.empty()) {
    p["anchor_certs"] = defaults.anchor_certs;
  }

  for (const StringRule& rule : kStringRules) {
    if (!p.contains(rule.key)) continue;
    std::string key(rule.key);
    const std::string v = p[key].get<std::string>();
    size_t chars = Utf8Length(v);
    if (chars == std::string_view::npos) return Invalid(key, "is not valid UTF-8", rule.apple_code);
    if (rule.max_chars != 0 && chars > rule.max_chars) {
      return Invalid(key, "is longer than " + std::to_string(rule.max_chars) + " characters",
                     rule.apple_code);
    }
  }
  if (p["profile_name"].get<std::string>().empty())
    return Invalid("profile_name", "is required", "CONFIG_NAME_REQUIRED");
  const std::string url = p["url"].get<std::string>();
  if (url.empty()) return Invalid("url", "is required", "CONFIG_URL_REQUIRED");
  // Setup Assistant fetches the enrollment profile over TLS only.
  if (url.rfind("https://", 0) != 0 || url.size() <= 8)
    return Invalid("url", "must be an https:// URL", "CONFIG_URL_INVALID");
  if (p.contains("configuration_web_url")) {
    const std::string web = p["configuration_web_url"].get<std::string>();
    if (!web.empty() && web.rfind("https://", 0) != 0)
      return Invalid("configuration_web_url", "must be an https:// URL", "CONFIG_URL_INVALID");
  }
  if (p.contains("support_email_address")) {
    const std::string email = p["support_email_address"].get<std::string>();
    size_t at = email.find('@');
    if (!email.empty() && (at == std::string::npos || at == 0 || at + 1 >= email.size()))
      return Invalid("support_email_address", "is not an email address", "SUPPORT_EMAIL_INVALID");
  }
  if (p.contains("language")) {
    // ISO 639-1/-2 code, lower case (Apple: "en").
    if (!AllOf(p["language"].get<std::string>(), [](char c) { return c >= 'a' && c <= 'z'; }) ||
        p["language"].get<std::string>().size() > 3 || p["language"].get<std::string>().size() < 2)
      return Invalid("language", "must be an ISO 639 code such as \"en\"", "LOCALE_INVALID");
  }
  if (p.contains("region")) {
    // ISO 3166-1 alpha-2, upper case (Apple: "US").
    if (p["region"].get<std::string>().size() != 2 ||
        !AllOf(p["region"].get<std::string>(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      return Invalid("region", "must be an ISO 3166 alpha-2 code such as \"US\"", "LOCALE_INVALID");
  }
  if (p.value("is_mdm_removable", true) == false && p.value("is_supervised", false) == false) {
    return Invalid("is_mdm_removable",
                   "may be false only with is_supervised true (a non-removable MDM profile needs a "
                   "supervised device)",
                   "FLAGS_INVALID");
  }
  return out;
}

}  // namespace mdmgw::dep

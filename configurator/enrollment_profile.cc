#include "configurator/enrollment_profile.h"

#include <algorithm>
#include <set>

#include "common/encoding.h"
#include "common/seal_contexts.h"

namespace mdmgw::configurator {
namespace {

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg, "bad_profile"); }

bool IsHttps(const std::string& url) { return url.rfind("https://", 0) == 0 && url.size() > 8; }

Status ReadString(const nlohmann::json& body, const char* key, size_t max, std::string* out) {
  auto it = body.find(key);
  if (it == body.end()) return Status::Ok();
  if (!it->is_string()) return Bad(std::string(key) + " must be a string");
  if (it->get<std::string>().size() > max)
    return Bad(std::string(key) + " is longer than " + std::to_string(max) + " characters");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadFlag(const nlohmann::json& body, const char* key, std::optional<bool>* out) {
  auto it = body.find(key);
  if (it == body.end()) return Status::Ok();
  if (!it->is_boolean()) return Bad(std::string(key) + " must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadNames(const nlohmann::json& body, const char* key, std::vector<std::string>* out) {
  auto it = body.find(key);
  if (it == body.end()) return Status::Ok();
  if (!it->is_array()) return Bad(std::string(key) + " must be a list of strings");
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 64)
      return Bad(std::string(key) + " must be a list of names (1-64 characters)");
    if (seen.insert(v.get<std::string>()).second) names.push_back(v.get<std::string>());
  }
  *out = std::move(names);
  return Status::Ok();
}

constexpr std::string_view kKnownKeys[] = {"name",          "method",        "supervised",
                                           "locked",        "user_affinity", "await_configuration",
                                           "organization",  "department",    "support_phone",
                                           "support_email", "description",   "skip_setup_items",
                                           "identity",      "pilot_groups",  "min_os_version"};

Status ParseIdentity(const nlohmann::json& j, const std::string& id, const SecretBox& box,
                     IdentitySettings* out) {
  if (!j.is_object()) return Bad("identity must be an object with a \"mode\"");
  for (const auto& [k, v] : j.items()) {
    static const std::set<std::string> known = {"mode",     "url",           "challenge",
                                                "key_size", "subject_cn",    "client_identifier",
                                                "key_type", "hardware_bound"};
    if (!known.count(k)) return Bad("unknown identity field \"" + k + "\"");
  }
  IdentitySettings s = *out;
  if (j.contains("mode")) {
    if (!j["mode"].is_string())
      return Bad("identity.mode must be \"scep\", \"acme\" or \"pkcs12\"");
    std::string mode = j["mode"].get<std::string>();
    if (mode != s.mode) s = IdentitySettings{};
    s.mode = mode;
  }
  if (s.mode == "pkcs12") {
    // The gateway's own CA issues each identity: nothing to configure but the subject.
    MDMGW_RETURN_IF_ERROR(ReadString(j, "subject_cn", 64, &s.subject_cn));
    for (const char* k : {"url", "challenge", "client_identifier", "key_type", "hardware_bound"}) {
      if (j.contains(k)) return Bad(std::string("identity.") + k + " does not apply to pkcs12");
    }
    *out = std::move(s);
    return Status::Ok();
  }
  if (s.mode != "scep" && s.mode != "acme")
    return Bad("identity.mode must be \"scep\", \"acme\" or \"pkcs12\"");
  MDMGW_RETURN_IF_ERROR(ReadString(j, "url", 2000, &s.url));
  MDMGW_RETURN_IF_ERROR(ReadString(j, "subject_cn", 64, &s.subject_cn));
  MDMGW_RETURN_IF_ERROR(ReadString(j, "client_identifier", 256, &s.client_identifier));
  MDMGW_RETURN_IF_ERROR(ReadString(j, "key_type", 32, &s.key_type));
  if (j.contains("key_size")) {
    if (!j["key_size"].is_number_integer()) return Bad("identity.key_size must be an integer");
    s.key_size = j["key_size"].get<int>();
  }
  if (j.contains("hardware_bound")) {
    if (!j["hardware_bound"].is_boolean()) return Bad("identity.hardware_bound must be a bool");
    s.hardware_bound = j["hardware_bound"].get<bool>();
  }
  if (j.contains("challenge")) {
    if (!j["challenge"].is_string()) return Bad("identity.challenge must be a string");
    std::string c = j["challenge"].get<std::string>();
    s.sealed_challenge =
        c.empty() ? "" : Base64Encode(box.Seal(c, seal_context::ScepChallenge(id)));
  }
  if (!IsHttps(s.url) && s.url.rfind("http://", 0) != 0)
    return Bad("identity.url must be the " +
               std::string(s.mode == "scep" ? "SCEP" : "ACME directory") + " URL (http or https)");
  if (s.mode == "scep") {
    if (s.key_size != 1024 && s.key_size != 2048 && s.key_size != 4096)
      return Bad("identity.key_size for SCEP is 1024, 2048 or 4096");
  } else {
    if (!IsHttps(s.url)) return Bad("identity.url: an ACME directory must be https");
    if (s.client_identifier.empty())
      return Bad("identity.client_identifier is required for ACME (the server's order key)");
    if (s.key_type != "ECSECPrimeRandom" && s.key_type != "RSA")
      return Bad("identity.key_type is ECSECPrimeRandom or RSA");
    if (s.key_type == "ECSECPrimeRandom" && s.key_size != 256 && s.key_size != 384) {
      if (!j.contains("key_size")) {
        s.key_size = 384;
      } else {
        return Bad("identity.key_size for ECSECPrimeRandom is 256 or 384");
      }
    }
    if (s.hardware_bound && s.key_type == "RSA")
      return Bad("identity.hardware_bound keys are ECSECPrimeRandom (the Secure Enclave's)");
  }
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace

nlohmann::json EnrollmentProfile::ToJson() const {
  nlohmann::json identity_json = {{"mode", identity.mode}};
  if (identity.mode != "pkcs12") identity_json["url"] = identity.url;
  if (identity.mode == "pkcs12") identity_json["subject_cn"] = identity.subject_cn;
  if (identity.mode == "scep") {
    identity_json["key_size"] = identity.key_size;
    identity_json["subject_cn"] = identity.subject_cn;
    identity_json["challenge_set"] = !identity.sealed_challenge.empty();
  } else if (identity.mode == "acme") {
    identity_json["client_identifier"] = identity.client_identifier;
    identity_json["key_type"] = identity.key_type;
    identity_json["key_size"] = identity.key_size;
    identity_json["hardware_bound"] = identity.hardware_bound;
  }
  return {{"id", id},
          {"name", name},
          {"method", TraitsOf(method).name},
          {"supervised", flags.supervised},
          {"locked", flags.locked},
          {"user_affinity", flags.user_affinity},
          {"await_configuration", await_configuration},
          {"organization", organization},
          {"department", department},
          {"support_phone", support_phone},
          {"support_email", support_email},
          {"description", description},
          {"skip_setup_items", skip_setup_items},
          {"identity", identity_json},
          {"pilot_groups", pilot_groups},
          {"min_os_version", min_os_version},
          {"created_at", created_at},
          {"updated_at", updated_at}};
}

store::EnrollmentProfileRecord EnrollmentProfile::ToRecord() const {
  nlohmann::json settings = ToJson();
  for (const char* k : {"id", "name", "method", "created_at", "updated_at"}) settings.erase(k);
  settings["identity"]["sealed_challenge"] = identity.sealed_challenge;
  settings["identity"].erase("challenge_set");
  store::EnrollmentProfileRecord r;
  r.id = id;
  r.name = name;
  r.method = std::string(TraitsOf(method).name);
  r.settings_json = settings.dump();
  r.created_at = created_at;
  r.updated_at = updated_at;
  return r;
}

Result<EnrollmentProfile> ParseEnrollmentProfile(const nlohmann::json& body,
                                                 const EnrollmentProfile* base,
                                                 const std::string& id, const SecretBox& box) {
  if (!body.is_object()) return Bad("the body must be a JSON object");
  for (const auto& [k, v] : body.items()) {
    if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), k) == std::end(kKnownKeys))
      return Bad("unknown enrollment profile field \"" + k + "\"");
  }
  EnrollmentProfile p = base != nullptr ? *base : EnrollmentProfile{};
  p.id = id;
  MDMGW_RETURN_IF_ERROR(ReadString(body, "name", 80, &p.name));
  if (p.name.empty()) return Bad("name is required");
  if (body.contains("method")) {
    auto m = body["method"].is_string() ? ParseEnrollmentMethod(body["method"].get<std::string>())
                                        : std::nullopt;
    if (!m) return Bad("method must be one of dep, usb-sa, usb-direct, ota, dem");
    p.method = *m;
  } else if (base == nullptr) {
    return Bad("method is required (dep, usb-sa, usb-direct, ota, dem)");
  }
  // Flags: what the request says, else what the stored profile had (for the same method).
  ProfileFlags flags;
  if (base != nullptr && base->method == p.method) {
    flags = {base->flags.supervised, base->flags.locked, base->flags.user_affinity};
  }
  MDMGW_RETURN_IF_ERROR(ReadFlag(body, "supervised", &flags.supervised));
  MDMGW_RETURN_IF_ERROR(ReadFlag(body, "locked", &flags.locked));
  MDMGW_RETURN_IF_ERROR(ReadFlag(body, "user_affinity", &flags.user_affinity));
  auto resolved = ResolveFlags(p.method, flags);
  if (!resolved.ok()) return resolved.status();
  p.flags = *resolved;
  std::optional<bool> await = p.await_configuration;
  MDMGW_RETURN_IF_ERROR(ReadFlag(body, "await_configuration", &await));
  p.await_configuration = await.value_or(false);
  bool setup_assistant = p.method == EnrollmentMethod::kDep || p.method == EnrollmentMethod::kUsbSa;
  if (p.await_configuration && !setup_assistant) {
    return Status::InvalidArgument(
        "await_configuration holds a device in Setup Assistant: dep and usb-sa only",
        "method_rule");
  }
  MDMGW_RETURN_IF_ERROR(ReadString(body, "organization", 125, &p.organization));
  MDMGW_RETURN_IF_ERROR(ReadString(body, "department", 125, &p.department));
  MDMGW_RETURN_IF_ERROR(ReadString(body, "support_phone", 50, &p.support_phone));
  MDMGW_RETURN_IF_ERROR(ReadString(body, "support_email", 250, &p.support_email));
  MDMGW_RETURN_IF_ERROR(ReadString(body, "description", 500, &p.description));
  if (!p.support_email.empty() && p.support_email.find('@') == std::string::npos)
    return Bad("support_email is not an email address");
  MDMGW_RETURN_IF_ERROR(ReadNames(body, "skip_setup_items", &p.skip_setup_items));
  if (!p.skip_setup_items.empty() && !setup_assistant) {
    return Status::InvalidArgument("skip_setup_items apply to Setup Assistant: dep and usb-sa only",
                                   "method_rule");
  }
  MDMGW_RETURN_IF_ERROR(ReadNames(body, "pilot_groups", &p.pilot_groups));
  MDMGW_RETURN_IF_ERROR(ReadString(body, "min_os_version", 16, &p.min_os_version));
  if (!p.min_os_version.empty()) {
    bool dotted = std::all_of(p.min_os_version.begin(), p.min_os_version.end(),
                              [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                  p.min_os_version.front() != '.' && p.min_os_version.back() != '.';
    if (!dotted) return Bad("min_os_version must be a version such as \"17.1\"");
    if (!setup_assistant) {
      return Status::InvalidArgument(
          "min_os_version is enforced in Setup Assistant: dep and usb-sa only", "method_rule");
    }
  }
  if (body.contains("identity")) {
    MDMGW_RETURN_IF_ERROR(ParseIdentity(body["identity"], id, box, &p.identity));
  } else if (p.identity.mode.empty()) {
    p.identity.mode = "pkcs12";  // default: identities from the gateway's own enrollment CA
  }
  return p;
}

Result<EnrollmentProfile> EnrollmentProfileFromRecord(const store::EnrollmentProfileRecord& r) {
  auto s = nlohmann::json::parse(r.settings_json, nullptr, false);
  auto method = ParseEnrollmentMethod(r.method);
  if (!s.is_object() || !method) {
    return Status::DataLoss("enrollment profile " + r.id + " is unreadable in the store");
  }
  EnrollmentProfile p;
  p.id = r.id;
  p.name = r.name;
  p.method = *method;
  p.created_at = r.created_at;
  p.updated_at = r.updated_at;
  p.flags.supervised = s.value("supervised", false);
  p.flags.locked = s.value("locked", false);
  p.flags.user_affinity = s.value("user_affinity", false);
  p.await_configuration = s.value("await_configuration", false);
  p.organization = s.value("organization", "");
  p.department = s.value("department", "");
  p.support_phone = s.value("support_phone", "");
  p.support_email = s.value("support_email", "");
  p.description = s.value("description", "");
  p.skip_setup_items = s.value("skip_setup_items", std::vector<std::string>{});
  p.pilot_groups = s.value("pilot_groups", std::vector<std::string>{});
  p.min_os_version = s.value("min_os_version", "");
  const nlohmann::json id = s.value("identity", nlohmann::json::object());
  p.identity.mode = id.value("mode", "");
  p.identity.url = id.value("url", "");
  p.identity.sealed_challenge = id.value("sealed_challenge", "");
  p.identity.key_size = id.value("key_size", 2048);
  p.identity.subject_cn = id.value("subject_cn", "");
  p.identity.client_identifier = id.value("client_identifier", "");
  p.identity.key_type = id.value("key_type", "ECSECPrimeRandom");
  p.identity.hardware_bound = id.value("hardware_bound", true);
  return p;
}

int CompareOsVersions(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    long x = 0, y = 0;
    for (; i < a.size() && a[i] != '.'; ++i)
      if (a[i] >= '0' && a[i] <= '9') x = x * 10 + (a[i] - '0');
    for (; j < b.size() && b[j] != '.'; ++j)
      if (b[j] >= '0' && b[j] <= '9') y = y * 10 + (b[j] - '0');
    if (x != y) return x < y ? -1 : 1;
    if (i < a.size()) ++i;
    if (j < b.size()) ++j;
  }
  return 0;
}

Result<std::string> OpenScepChallenge(const EnrollmentProfile& p, const SecretBox& box) {
  if (p.identity.sealed_challenge.empty()) return std::string();
  auto sealed = Base64Decode(p.identity.sealed_challenge);
  if (!sealed.ok()) return Status::DataLoss("the stored SCEP challenge is unreadable");
  auto opened = box.Open(*sealed, seal_context::ScepChallenge(p.id));
  if (!opened.ok()) return Status::DataLoss("the stored SCEP challenge does not open");
  return opened->Expose();
}

}  // namespace mdmgw::configurator

#include "configurator/mobileconfig.h"

#include <plist/plist.h>

#include <cstdio>
#include <memory>

#include "common/encoding.h"
#include "common/random.h"

namespace mdmgw::configurator {
namespace {

struct PlistFree {
  void operator()(plist_t p) const { plist_free(p); }
};
using PlistPtr = std::unique_ptr<void, PlistFree>;

// Small builders over libplist's C API (items handed to a dict or array are owned by it).
void Set(plist_t dict, const char* key, plist_t value) { plist_dict_set_item(dict, key, value); }
void SetString(plist_t dict, const char* key, const std::string& v) {
  Set(dict, key, plist_new_string(v.c_str()));
}
void SetBool(plist_t dict, const char* key, bool v) { Set(dict, key, plist_new_bool(v ? 1 : 0)); }
void SetInt(plist_t dict, const char* key, uint64_t v) { Set(dict, key, plist_new_uint(v)); }

// Placeholders written as plist strings and replaced in the XML: UUID k, or the pkcs12 identity.
constexpr int kPkcs12Slot = -1;
constexpr int kPasswordSlot = -2;
std::string Slot(int k) { return "MDMGW-SLOT-" + std::to_string(k) + "-END"; }

// Every inner payload's common keys; its PayloadUUID is UUID slot |uuid|.
plist_t NewPayload(const char* type, const std::string& identifier, const std::string& display,
                   int uuid) {
  plist_t p = plist_new_dict();
  SetString(p, "PayloadType", type);
  SetString(p, "PayloadIdentifier", identifier);
  SetString(p, "PayloadUUID", Slot(uuid));
  SetInt(p, "PayloadVersion", 1);
  SetString(p, "PayloadDisplayName", display);
  return p;
}

// [[["CN", cn]]] — SCEP's and ACME's Subject: an array of RDNs, each an array of [type, value].
plist_t SubjectCn(const std::string& cn) {
  plist_t pair = plist_new_array();
  plist_array_append_item(pair, plist_new_string("CN"));
  plist_array_append_item(pair, plist_new_string(cn.c_str()));
  plist_t rdn = plist_new_array();
  plist_array_append_item(rdn, pair);
  plist_t subject = plist_new_array();
  plist_array_append_item(subject, rdn);
  return subject;
}

}  // namespace

std::string NewPayloadUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    unsigned char c = static_cast<unsigned char>(b[i]);
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

Result<MobileconfigTemplate> MobileconfigTemplate::Build(const EnrollmentProfile& profile,
                                                         const MobileconfigContext& ctx) {
  if (ctx.topic.empty()) {
    return Status::FailedPrecondition(
        "upload the APNs push certificate first: a profile without its topic would enroll devices "
        "the gateway can never wake",
        "no_push_certificate");
  }
  if (profile.identity.mode != "scep" && profile.identity.mode != "acme" &&
      profile.identity.mode != "pkcs12") {
    return Status::FailedPrecondition("the profile has no identity source (scep, acme, pkcs12)",
                                      "no_identity");
  }
  MobileconfigTemplate t;
  t.identifier_ = "com.mdm-gateway.enrollment." + profile.id;
  int next_uuid = 0;
  const int top_uuid = next_uuid++;
  std::string org = profile.organization.empty() ? "mdm-gateway" : profile.organization;

  plist_t content = plist_new_array();
  for (size_t i = 0; i < ctx.anchor_certs_der.size(); ++i) {
    std::string n = std::to_string(i + 1);
    plist_t anchor = NewPayload("com.apple.security.root", t.identifier_ + ".anchor." + n,
                                org + " server certificate " + n, next_uuid++);
    const std::string& der = ctx.anchor_certs_der[i];
    Set(anchor, "PayloadContent", plist_new_data(der.data(), der.size()));
    SetString(anchor, "PayloadCertificateFileName", "anchor-" + n + ".cer");
    plist_array_append_item(content, anchor);
  }

  const int identity_uuid = next_uuid++;
  std::string cn =
      profile.identity.subject_cn.empty() ? "mdm-gateway device" : profile.identity.subject_cn;
  plist_t identity;
  if (profile.identity.mode == "scep") {
    identity = NewPayload("com.apple.security.scep", t.identifier_ + ".identity",
                          "Device identity (SCEP)", identity_uuid);
    plist_t scep = plist_new_dict();
    SetString(scep, "URL", profile.identity.url);
    SetString(scep, "Name", org);
    Set(scep, "Subject", SubjectCn(cn));
    if (!ctx.scep_challenge.empty()) SetString(scep, "Challenge", ctx.scep_challenge);
    SetInt(scep, "Keysize", static_cast<uint64_t>(profile.identity.key_size));
    SetString(scep, "Key Type", "RSA");
    SetInt(scep, "Key Usage", 5);  // signing and encryption
    SetInt(scep, "Retries", 3);
    SetInt(scep, "RetryDelay", 10);
    Set(identity, "PayloadContent", scep);
  } else if (profile.identity.mode == "pkcs12") {
    identity = NewPayload("com.apple.security.pkcs12", t.identifier_ + ".identity",
                          "Device identity", identity_uuid);
    SetString(identity, "PayloadContent", Slot(kPkcs12Slot));  // <data> at render time
    SetString(identity, "Password", Slot(kPasswordSlot));
    SetString(identity, "PayloadCertificateFileName", "device-identity.p12");
    t.needs_identity_ = true;
  } else {
    identity = NewPayload("com.apple.security.acme", t.identifier_ + ".identity",
                          "Device identity (ACME)", identity_uuid);
    SetString(identity, "DirectoryURL", profile.identity.url);
    SetString(identity, "ClientIdentifier", profile.identity.client_identifier);
    SetInt(identity, "KeySize", static_cast<uint64_t>(profile.identity.key_size));
    SetString(identity, "KeyType", profile.identity.key_type);
    SetBool(identity, "HardwareBound", profile.identity.hardware_bound);
    Set(identity, "Subject", SubjectCn(cn));
  }
  plist_array_append_item(content, identity);

  plist_t mdm =
      NewPayload("com.apple.mdm", t.identifier_ + ".mdm", org + " device management", next_uuid++);
  SetString(mdm, "ServerURL", ctx.server_url);
  SetString(mdm, "CheckInURL", ctx.checkin_url);
  SetString(mdm, "Topic", ctx.topic);
  SetString(mdm, "IdentityCertificateUUID", Slot(identity_uuid));
  SetInt(mdm, "AccessRights", 8191);  // every right; the core MDM decides what it asks
  SetBool(mdm, "SignMessage", true);  // Mdm-Signature on every message (identity at the edge)
  SetBool(mdm, "CheckOutWhenRemoved", true);
  plist_t caps = plist_new_array();
  plist_array_append_item(caps, plist_new_string("com.apple.mdm.per-user-connections"));
  plist_array_append_item(caps, plist_new_string("com.apple.mdm.bootstraptoken"));
  Set(mdm, "ServerCapabilities", caps);
  plist_array_append_item(content, mdm);

  PlistPtr top(plist_new_dict());
  Set(top.get(), "PayloadContent", content);
  SetString(top.get(), "PayloadDisplayName", profile.name);
  SetString(top.get(), "PayloadDescription",
            profile.description.empty() ? "Enrolls this device in " + org + "'s device management."
                                        : profile.description);
  SetString(top.get(), "PayloadIdentifier", t.identifier_);
  SetString(top.get(), "PayloadOrganization", org);
  SetString(top.get(), "PayloadType", "Configuration");
  SetString(top.get(), "PayloadUUID", Slot(top_uuid));
  SetInt(top.get(), "PayloadVersion", 1);
  if (profile.flags.locked) SetBool(top.get(), "PayloadRemovalDisallowed", true);

  char* xml = nullptr;
  uint32_t len = 0;
  plist_to_xml(top.get(), &xml, &len);
  if (xml == nullptr) return Status::Internal("libplist could not serialise the profile");
  std::string text(xml, len);
  plist_to_xml_free(xml);

  // Split at every "<string>SLOT</string>" so Render fills them without a plist round trip.
  t.uuid_count_ = next_uuid;
  static const std::string kOpen = "<string>MDMGW-SLOT-";
  static const std::string kClose = "</string>";
  size_t pos = 0;
  while (true) {
    size_t at = text.find(kOpen, pos);
    if (at == std::string::npos) break;
    size_t end = text.find(kClose, at);
    int k = std::atoi(text.c_str() + at + kOpen.size());
    t.segments_.push_back(text.substr(pos, at - pos));
    t.slots_.push_back(k);
    pos = end + kClose.size();
  }
  t.segments_.push_back(text.substr(pos));
  return t;
}

std::string MobileconfigTemplate::Render(const RenderIdentity* identity) const {
  std::vector<std::string> uuids;
  uuids.reserve(static_cast<size_t>(uuid_count_));
  for (int i = 0; i < uuid_count_; ++i) uuids.push_back(NewPayloadUuid());
  size_t size = 0;
  for (const auto& s : segments_) size += s.size();
  std::string p12 = identity != nullptr ? Base64Encode(identity->pkcs12_der) : "";
  std::string out;
  out.reserve(size + slots_.size() * 60 + p12.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    out += segments_[i];
    int k = slots_[i];
    if (k == kPkcs12Slot) {
      out += "<data>" + p12 + "</data>";
    } else if (k == kPasswordSlot) {
      // The password is ours (letters and digits): nothing to escape.
      out += "<string>" + (identity != nullptr ? identity->password : std::string()) + "</string>";
    } else {
      out += "<string>" + uuids[static_cast<size_t>(k)] + "</string>";
    }
  }
  out += segments_.back();
  return out;
}

}  // namespace mdmgw::configurator

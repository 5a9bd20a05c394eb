// MachineInfo: what a device in Setup Assistant (DEP, or Apple Configurator's Prepare) POSTs to
// the enrollment URL — a DER CMS SignedData whose content is an XML plist (PROTOCOLS.md §3),
// signed by the device's identity certificate with its chain in the message.
//
// MachineInfoVerifier checks the signature and the signer's chain: against Apple's device CA
// chain with time checks off for that chain only (its "Apple iPhone Device CA" expired in 2014
// and still issues device identities), or against an extra bundle (tests, simulators, labs) with
// time checks on. The content plist is bounded before libplist parses it.
//
// Thread-safety: immutable after Create; Verify from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mdmgw::configurator {

struct MachineInfo {
  std::string udid, serial, product, version, os_version, imei, meid, language;
  bool can_request_software_update = false;  // MDM_CAN_REQUEST_SOFTWARE_UPDATE
  std::string signer_subject;                // the device certificate's subject
  bool apple_signed = false;                 // chained to Apple's device CA (not the extra bundle)
};

class MachineInfoVerifier {
 public:
  // |apple_bundle_pem|: Apple's device chain (root first or any order); |extra_bundle_pem|: more
  // trusted signer CAs ("" for none).
  static Result<std::unique_ptr<MachineInfoVerifier>> Create(std::string_view apple_bundle_pem,
                                                             std::string_view extra_bundle_pem);
  ~MachineInfoVerifier();

  // PermissionDenied "bad_machine_info_signature" / "untrusted_device" when the signature or the
  // chain does not hold; InvalidArgument "bad_machine_info" for content that is not MachineInfo.
  Result<MachineInfo> Verify(std::string_view der) const;
  // A device certificate (PEM) alone against the Apple chain (time checks off).
  Status VerifyAppleDeviceCertificate(std::string_view cert_pem) const;

 private:
  MachineInfoVerifier() = default;
  void* apple_store_ = nullptr;  // X509_STORE*
  void* extra_store_ = nullptr;  // X509_STORE*, null without an extra bundle
};

// Parses the MachineInfo plist itself (bounded: 64 KiB, XML only).
Result<MachineInfo> ParseMachineInfoPlist(std::string_view xml);

}  // namespace mdmgw::configurator

#include "configurator/setup_assistant_enrollment.h"

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace mdmgw::configurator {
namespace {

int HttpFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kFailedPrecondition:
      return 503;  // the gateway is not ready to enroll (no push certificate): try again later
    default:
      return 500;
  }
}

}  // namespace

DeviceAnswer DeviceError(int status, const std::string& code, const std::string& message) {
  return {status, "application/json",
          nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump()};
}

SetupAssistantEnrollment::SetupAssistantEnrollment(EnrollmentProfileService& profiles,
                                                   const MachineInfoVerifier& verifier,
                                                   store::ProfileStore& store, Clock& clock)
    : profiles_(profiles), verifier_(verifier), store_(store), clock_(clock) {}

DeviceAnswer SetupAssistantEnrollment::Enroll(const std::string& profile_ref, std::string_view body,
                                              const std::string& remote_address) {
  auto info = verifier_.Verify(body);
  if (!info.ok()) {
    log::Warn(
        "enroll: MachineInfo refused",
        {{"profile", profile_ref}, {"remote", remote_address}, {"why", info.status().message()}});
    return DeviceError(HttpFor(info.status()), info.status().reason(), info.status().message());
  }
  auto profile = profiles_.Get(profile_ref);
  if (!profile.ok()) return DeviceError(404, "unknown_profile", "no such enrollment profile");
  if (profile->method != EnrollmentMethod::kDep && profile->method != EnrollmentMethod::kUsbSa) {
    return DeviceError(404, "unknown_profile",
                       "this profile is not enrolled through Setup Assistant (dep or usb-sa)");
  }
  if (profile->method == EnrollmentMethod::kUsbSa) {
    auto listed = store_.HasProfileSerial(profile->id, info->serial);
    if (!listed.ok()) return DeviceError(500, "store", "internal error; see the gateway log");
    if (!*listed) {
      log::Warn("enroll: usb-sa device not on the profile's serial list",
                {{"profile", profile->id}, {"serial", info->serial}});
      return DeviceError(403, "serial_not_imported",
                         "this device's serial number is not on the profile's imported list");
    }
  }
  if (!profile->min_os_version.empty() && !info->os_version.empty() &&
      info->can_request_software_update &&
      CompareOsVersions(info->os_version, profile->min_os_version) < 0) {
    // Apple's answer: Setup Assistant updates the OS, then asks again (PROTOCOLS.md §3).
    nlohmann::json update = {
        {"code", "com.apple.softwareupdate.required"},
        {"description", "Update to " + profile->min_os_version + " or later to enroll."},
        {"message", "Your organisation requires a newer software version."},
        {"details", {{"OSVersion", profile->min_os_version}}}};
    return {403, "application/json", update.dump()};
  }
  auto signed_profile = profiles_.SignedProfile(profile->id, info->udid);
  if (!signed_profile.ok()) {
    log::Error("enroll: profile not built",
               {{"profile", profile->id}, {"error", signed_profile.status().ToString()}});
    DeviceAnswer a = DeviceError(HttpFor(signed_profile.status()), signed_profile.status().reason(),
                                 signed_profile.status().message());
    return a;
  }
  store::EnrollmentEventRecord event;
  event.at = clock_.NowUnixSeconds();
  event.event = "profile_served";
  event.profile_id = profile->id;
  event.method = std::string(TraitsOf(profile->method).name);
  event.serial = info->serial;
  event.udid = info->udid;
  event.detail =
      nlohmann::json{{"product", info->product},       {"version", info->version},
                     {"os_version", info->os_version}, {"language", info->language},
                     {"signer", info->signer_subject}, {"apple_signed", info->apple_signed},
                     {"remote", remote_address}}
          .dump();
  if (Status s = store_.RecordEnrollmentEvent(event); !s.ok()) {
    log::Error("enroll: event not recorded", {{"error", s.ToString()}});
    return DeviceError(500, "store", "internal error; see the gateway log");
  }
  log::Info("enroll: profile served", {{"profile", profile->id},
                                       {"method", event.method},
                                       {"serial", info->serial},
                                       {"product", info->product}});
  return {200, "application/x-apple-aspen-config", std::move(signed_profile).value()};
}

}  // namespace mdmgw::configurator

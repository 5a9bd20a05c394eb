// CheckInMessage / CommandReport: what the gateway reads from a device's check-in
// (application/x-apple-aspen-mdm-checkin) and command-channel (application/x-apple-aspen-mdm)
// bodies — the keys it records or routes on (PROTOCOLS §5). The bytes themselves are forwarded
// untouched; these are parsed copies.
//
// Ids follow NanoMDM, so the core and the gateway name enrollments alike: the device channel is the
// UDID (or the EnrollmentID of a user enrollment); a user channel is "<device id>:<UserID>" (or
// ":<EnrollmentUserID>").
//
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/plist_guard.h"
#include "common/result.h"

namespace mdmgw::gateway {

enum class CheckInType {
  kAuthenticate,
  kTokenUpdate,
  kCheckOut,
  kUserAuthenticate,
  kSetBootstrapToken,
  kGetBootstrapToken,
  kDeclarativeManagement,
  kGetToken,
};

// Which identity keys a message carried (shared by check-ins and command reports).
struct ChannelKeys {
  std::string udid;
  std::string enrollment_id;       // user enrollment (no UDID)
  std::string user_id;             // macOS user channel GUID
  std::string enrollment_user_id;  // user enrollment's user channel
  std::string user_short_name;
  std::string user_long_name;

  // The device the message is from: UDID, else EnrollmentID. "" when neither.
  std::string DeviceId() const;
  // The enrollment the message is for: the device id, or "<device id>:<user>" for a user channel.
  std::string ChannelId() const;
  bool IsUserChannel() const { return !user_id.empty() || !enrollment_user_id.empty(); }
};

struct CheckInMessage {
  CheckInType type = CheckInType::kAuthenticate;
  std::string message_type;  // as sent
  ChannelKeys channel;
  std::string topic;
  // Authenticate
  std::string serial_number, model, model_name, product_name, os_version, build_version;
  std::string device_name, imei, meid;
  // TokenUpdate
  std::string token;  // raw bytes
  std::string push_magic;
  std::optional<std::string> unlock_token;  // raw bytes; never logged
  bool awaiting_configuration = false;
  // DeclarativeManagement
  std::string endpoint;
};

struct CommandReport {
  ChannelKeys channel;
  std::string status;  // Idle, Acknowledged, Error, CommandFormatError, NotNow
  std::string command_uuid;
};

// Parses a check-in body (XML or binary plist, within |limits|). InvalidArgument with reason
// "bad_plist" (unparseable), "unknown_message_type", or "missing_key" (naming the key); TooLarge
// ("plist_too_large").
Result<CheckInMessage> ParseCheckIn(std::string_view body, const PlistLimits& limits);
// Parses a command-channel body. Same errors; an unknown Status → "unknown_status".
Result<CommandReport> ParseCommandReport(std::string_view body, const PlistLimits& limits);

}  // namespace mdmgw::gateway

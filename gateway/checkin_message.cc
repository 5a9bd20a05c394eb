#include "gateway/checkin_message.h"

#include <array>
#include <utility>

namespace mdmgw::gateway {
namespace {

constexpr std::array<std::pair<std::string_view, CheckInType>, 8> kTypes{{
    {"Authenticate", CheckInType::kAuthenticate},
    {"TokenUpdate", CheckInType::kTokenUpdate},
    {"CheckOut", CheckInType::kCheckOut},
    {"UserAuthenticate", CheckInType::kUserAuthenticate},
    {"SetBootstrapToken", CheckInType::kSetBootstrapToken},
    {"GetBootstrapToken", CheckInType::kGetBootstrapToken},
    {"DeclarativeManagement", CheckInType::kDeclarativeManagement},
    {"GetToken", CheckInType::kGetToken},
}};

Status Missing(std::string_view key, std::string_view what) {
  return Status::InvalidArgument(std::string(what) + " without " + std::string(key), "missing_key");
}

ChannelKeys ReadChannel(plist_t root) {
  ChannelKeys c;
  c.udid = PlistString(root, "UDID");
  c.enrollment_id = PlistString(root, "EnrollmentID");
  c.user_id = PlistString(root, "UserID");
  c.enrollment_user_id = PlistString(root, "EnrollmentUserID");
  c.user_short_name = PlistString(root, "UserShortName");
  c.user_long_name = PlistString(root, "UserLongName");
  return c;
}

Result<PlistPtr> ParseDict(std::string_view body, const PlistLimits& limits) {
  auto root = ParseUntrustedPlist(body, limits);
  if (!root.ok()) return root.status();
  if (plist_get_node_type(root->get()) != PLIST_DICT) {
    return Status::InvalidArgument("the body is not a plist dictionary", "bad_plist");
  }
  return root;
}

}  // namespace

std::string ChannelKeys::DeviceId() const { return !udid.empty() ? udid : enrollment_id; }

std::string ChannelKeys::ChannelId() const {
  std::string id = DeviceId();
  if (!user_id.empty()) return id + ":" + user_id;
  if (!enrollment_user_id.empty()) return id + ":" + enrollment_user_id;
  return id;
}

Result<CheckInMessage> ParseCheckIn(std::string_view body, const PlistLimits& limits) {
  auto parsed = ParseDict(body, limits);
  if (!parsed.ok()) return parsed.status();
  plist_t root = parsed->get();
  CheckInMessage m;
  m.message_type = PlistString(root, "MessageType");
  if (m.message_type.empty()) return Missing("MessageType", "a check-in");
  bool known = false;
  for (const auto& [name, type] : kTypes) {
    if (name == m.message_type) {
      m.type = type;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument("unknown MessageType " + m.message_type.substr(0, 64),
                                   "unknown_message_type");
  }
  m.channel = ReadChannel(root);
  m.topic = PlistString(root, "Topic");
  m.serial_number = PlistString(root, "SerialNumber");
  m.model = PlistString(root, "Model");
  m.model_name = PlistString(root, "ModelName");
  m.product_name = PlistString(root, "ProductName");
  m.os_version = PlistString(root, "OSVersion");
  m.build_version = PlistString(root, "BuildVersion");
  m.device_name = PlistString(root, "DeviceName");
  m.imei = PlistString(root, "IMEI");
  m.meid = PlistString(root, "MEID");
  m.push_magic = PlistString(root, "PushMagic");
  m.token = PlistData(root, "Token").value_or("");
  m.unlock_token = PlistData(root, "UnlockToken");
  m.awaiting_configuration = PlistBool(root, "AwaitingConfiguration").value_or(false);
  m.endpoint = PlistString(root, "Endpoint");
  if (m.channel.DeviceId().empty()) return Missing("UDID or EnrollmentID", m.message_type);
  switch (m.type) {
    case CheckInType::kAuthenticate:
    case CheckInType::kCheckOut:
      if (m.topic.empty()) return Missing("Topic", m.message_type);
      break;
    case CheckInType::kTokenUpdate:
      if (m.topic.empty()) return Missing("Topic", m.message_type);
      if (m.token.empty()) return Missing("Token", m.message_type);
      if (m.push_magic.empty()) return Missing("PushMagic", m.message_type);
      break;
    default:
      break;
  }
  return m;
}

Result<CommandReport> ParseCommandReport(std::string_view body, const PlistLimits& limits) {
  auto parsed = ParseDict(body, limits);
  if (!parsed.ok()) return parsed.status();
  plist_t root = parsed->get();
  CommandReport r;
  r.channel = ReadChannel(root);
  r.status = PlistString(root, "Status");
  r.command_uuid = PlistString(root, "CommandUUID");
  if (r.channel.DeviceId().empty()) return Missing("UDID or EnrollmentID", "a command report");
  if (r.status.empty()) return Missing("Status", "a command report");
  static constexpr std::array<std::string_view, 5> kStatuses{"Idle", "Acknowledged", "Error",
                                                             "CommandFormatError", "NotNow"};
  bool known = false;
  for (auto s : kStatuses) known = known || s == r.status;
  if (!known) {
    return Status::InvalidArgument("unknown Status " + r.status.substr(0, 64), "unknown_status");
  }
  if (r.status != "Idle" && r.command_uuid.empty()) return Missing("CommandUUID", r.status);
  return r;
}

}  // namespace mdmgw::gateway

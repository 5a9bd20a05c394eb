// Check-in and command-report parsing on real device plists (NanoMDM's captures) and on the
// refusals a device body can earn.
#include "gateway/checkin_message.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace mdmgw::gateway {
namespace {

std::string Fixture(const std::string& name) {
  auto f = ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/nanomdm/mdm/testdata/" + name);
  EXPECT_TRUE(f.ok()) << name;
  return f.ok() ? *f : "";
}

constexpr char kTopic[] = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";

std::string Plist(const std::string& dict_body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>" + dict_body +
         "</dict></plist>";
}

TEST(CheckInMessageTest, RealAuthenticateAndTokenUpdate) {
  auto a = ParseCheckIn(Fixture("Authenticate.2.plist"), {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->type, CheckInType::kAuthenticate);
  EXPECT_EQ(a->channel.udid, "66ADE930-5FDF-5EC4-8429-15640684C489");
  EXPECT_EQ(a->serial_number, "C02MT66KFLHH");
  EXPECT_EQ(a->topic, kTopic);
  EXPECT_EQ(a->model, "iMac14,2");
  EXPECT_EQ(a->channel.ChannelId(), a->channel.udid);

  auto t = ParseCheckIn(Fixture("TokenUpdate.2.plist"), {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->type, CheckInType::kTokenUpdate);
  EXPECT_EQ(t->push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2");
  EXPECT_EQ(Base64Encode(t->token), "G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw=");
  EXPECT_FALSE(t->awaiting_configuration);

  auto t1 = ParseCheckIn(Fixture("TokenUpdate.1.plist"), {});
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();
  EXPECT_EQ(t1->channel.udid, "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69");
}

TEST(CheckInMessageTest, RealCommandResult) {
  auto r = ParseCommandReport(Fixture("DeviceInformation.1.plist"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, "Acknowledged");
  EXPECT_EQ(r->command_uuid, "76eda240-5488-4989-8339-f2ae160113c4");
  EXPECT_EQ(r->channel.DeviceId(), "66ADE930-5FDF-5EC4-8429-15640684C489");
}

TEST(CheckInMessageTest, UserChannelsAndUserEnrollment) {
  auto u = ParseCheckIn(Plist("<key>MessageType</key><string>TokenUpdate</string>"
                              "<key>UDID</key><string>D1</string><key>UserID</key>"
                              "<string>U-GUID</string><key>Topic</key><string>t</string>"
                              "<key>Token</key><data>AAEC</data><key>PushMagic</key>"
                              "<string>m</string>"),
                        {});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->channel.ChannelId(), "D1:U-GUID");
  EXPECT_TRUE(u->channel.IsUserChannel());
  auto byod = ParseCheckIn(Plist("<key>MessageType</key><string>Authenticate</string>"
                                 "<key>EnrollmentID</key><string>E-1</string>"
                                 "<key>Topic</key><string>t</string>"),
                           {});
  ASSERT_TRUE(byod.ok());
  EXPECT_EQ(byod->channel.DeviceId(), "E-1");
}

// A string holding a NUL byte (raw inside an XML <string>, or in a binary plist) made libplist 2.2
// abort the whole process in plist_get_string_val (tests/fuzz/checkin_plist). It reads as absent.
TEST(CheckInMessageTest, NulInAStringIsRefusedNotFatal) {
  const std::string nul(1, '\0');
  auto nul_udid = ParseCheckIn(Plist("<key>MessageType</key><string>Authenticate</string>"
                                     "<key>UDID</key><string>AB" +
                                     nul +
                                     "CD</string>"
                                     "<key>Topic</key><string>t</string>"),
                               {});
  EXPECT_EQ(nul_udid.status().reason(), "missing_key") << nul_udid.status().ToString();
  auto nul_type = ParseCheckIn(Plist("<key>MessageType</key><string>Idle" + nul +
                                     "</string><key>UDID</key><string>x</string>"),
                               {});
  EXPECT_FALSE(nul_type.ok());
  auto report = ParseCommandReport(
      Plist("<key>UDID</key><string>x" + nul + "</string><key>Status</key><string>Idle</string>"),
      {});
  EXPECT_FALSE(report.ok()) << "the NUL-bearing UDID is not taken";
}

TEST(CheckInMessageTest, Refusals) {
  auto unknown = ParseCheckIn(
      Plist("<key>MessageType</key><string>Reboot</string><key>UDID</key><string>x</string>"), {});
  EXPECT_EQ(unknown.status().reason(), "unknown_message_type");
  auto no_type = ParseCheckIn(Plist("<key>UDID</key><string>x</string>"), {});
  EXPECT_EQ(no_type.status().reason(), "missing_key");
  auto no_token = ParseCheckIn(Plist("<key>MessageType</key><string>TokenUpdate</string>"
                                     "<key>UDID</key><string>x</string><key>Topic</key>"
                                     "<string>t</string><key>PushMagic</key><string>m</string>"),
                               {});
  EXPECT_EQ(no_token.status().reason(), "missing_key");
  EXPECT_NE(no_token.status().message().find("Token"), std::string::npos);
  auto no_udid =
      ParseCheckIn(Plist("<key>MessageType</key><string>CheckOut</string><key>Topic</key>"
                         "<string>t</string>"),
                   {});
  EXPECT_EQ(no_udid.status().reason(), "missing_key");
  EXPECT_EQ(ParseCheckIn("<plist><array/></plist>", {}).status().reason(), "bad_plist");
  EXPECT_EQ(ParseCheckIn("garbage", {}).status().reason(), "bad_plist");
  auto bad_status = ParseCommandReport(
      Plist("<key>UDID</key><string>x</string><key>Status</key><string>Maybe</string>"), {});
  EXPECT_EQ(bad_status.status().reason(), "unknown_status");
  auto idle = ParseCommandReport(Plist("<key>UDID</key><string>x</string><key>Status</key>"
                                       "<string>Idle</string>"),
                                 {});
  EXPECT_TRUE(idle.ok());
  auto ack_without_uuid = ParseCommandReport(
      Plist("<key>UDID</key><string>x</string><key>Status</key><string>Acknowledged</string>"), {});
  EXPECT_EQ(ack_without_uuid.status().reason(), "missing_key");
}

}  // namespace
}  // namespace mdmgw::gateway

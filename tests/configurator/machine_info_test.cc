// MachineInfo verification: Apple's real device certificates against Apple's chain (time checks
// off for that chain only), a test device CA accepted only when configured, tampering refused;
// the plist's fields; Configurator's serial CSV; OS version order.
#include "configurator/machine_info.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "configurator/apple_device_ca.h"
#include "configurator/enrollment_profile.h"
#include "configurator/serial_import.h"
#include "fixtures/pki/test_pki.h"
#include "tests/support/machine_info.h"

namespace mdmgw::configurator {
namespace {

std::string Fixture(const std::string& rel) {
  return ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/micromdm/" + rel).value_or("");
}

TEST(MachineInfoTest, RealAppleDeviceCertificatesChainToApple) {
  auto v = MachineInfoVerifier::Create(AppleDeviceCaBundle(), "");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  for (const char* f :
       {"device-certs/appleca_signed.pem", "device-certs/appleca_signed_newer.pem"}) {
    std::string pem = Fixture(f);
    ASSERT_FALSE(pem.empty()) << f;
    EXPECT_TRUE((*v)->VerifyAppleDeviceCertificate(pem).ok()) << f;
  }
  // The embedded bundle is the fixtures' Apple chain.
  EXPECT_NE(
      std::string(AppleDeviceCaBundle()).find(Fixture("apple-ca/appleRootCA.pem").substr(0, 200)),
      std::string::npos);
  testing::TempDir dir;
  testing::TestCa ca(dir.path());
  auto other = ca.IssueClient("dev", "not-apple");
  EXPECT_EQ((*v)->VerifyAppleDeviceCertificate(other.cert_pem).reason(), "untrusted_device");
}

TEST(MachineInfoTest, TestDeviceCaOnlyWhenConfiguredAndTamperingRefused) {
  testing::TempDir dir;
  testing::TestCa ca(dir.path(), "lab device CA");
  auto device = ca.IssueClient("device", "lab-device-1");
  std::string plist = testing::MachineInfoPlist("00008101-000A1B2C3D4E5F60", "DMQXK1Y2Z3W4");
  std::string der = testing::SignMachineInfo(device.cert_pem, device.key_pem, plist);
  ASSERT_FALSE(der.empty());

  auto apple_only = MachineInfoVerifier::Create(AppleDeviceCaBundle(), "");
  ASSERT_TRUE(apple_only.ok());
  EXPECT_EQ((*apple_only)->Verify(der).status().reason(), "untrusted_device");

  auto with_lab = MachineInfoVerifier::Create(AppleDeviceCaBundle(), *ReadFile(ca.ca_file()));
  ASSERT_TRUE(with_lab.ok());
  auto info = (*with_lab)->Verify(der);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->udid, "00008101-000A1B2C3D4E5F60");
  EXPECT_EQ(info->serial, "DMQXK1Y2Z3W4");
  EXPECT_EQ(info->product, "iPad13,1");
  EXPECT_EQ(info->os_version, "17.4");
  EXPECT_EQ(info->language, "en-US");
  EXPECT_TRUE(info->can_request_software_update);
  EXPECT_FALSE(info->apple_signed);
  EXPECT_NE(info->signer_subject.find("lab-device-1"), std::string::npos);

  std::string tampered = der;
  size_t at = tampered.find("DMQXK1Y2Z3W4");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'X';
  EXPECT_EQ((*with_lab)->Verify(tampered).status().reason(), "bad_machine_info_signature");
  EXPECT_EQ((*with_lab)->Verify(plist).status().reason(), "bad_machine_info_signature")
      << "an unsigned MachineInfo";
  EXPECT_EQ((*with_lab)->Verify("").status().reason(), "bad_machine_info_signature");
  std::string no_udid = testing::SignMachineInfo(
      device.cert_pem, device.key_pem,
      "<plist version=\"1.0\"><dict><key>SERIAL</key><string>X</string></dict></plist>");
  EXPECT_EQ((*with_lab)->Verify(no_udid).status().reason(), "bad_machine_info");
  EXPECT_EQ(ParseMachineInfoPlist("bplist00garbage").status().reason(), "bad_machine_info");
  // A NUL byte in a string aborted the process inside libplist (tests/fuzz/machine_info).
  EXPECT_EQ(ParseMachineInfoPlist(std::string("<plist version=\"1.0\"><dict><key>UDID</key>"
                                              "<string>A\0B</string><key>SERIAL</key><string>X"
                                              "</string></dict></plist>",
                                              112))
                .status()
                .reason(),
            "bad_machine_info");
  EXPECT_EQ(MachineInfoVerifier::Create("no pem here", "").status().reason(), "bad_ca_bundle");
}

TEST(SerialImportTest, PerLineErrorsAndLimits) {
  auto ok = ParseConfiguratorCsv("C02ABC123456,Lab cart 1\r\ndmqxk1y2z3w4,\"Room 2, shelf\"\n\n");
  EXPECT_TRUE(ok.errors.empty());
  ASSERT_EQ(ok.rows.size(), 2u);
  EXPECT_EQ(ok.rows[1].first, "DMQXK1Y2Z3W4") << "upper case";
  EXPECT_EQ(ok.rows[1].second, "Room 2, shelf");

  auto bad = ParseConfiguratorCsv(
      "serial,details\nC02ABC123456,a\n,b\nC02-BAD,c\nC02ABC123456,d\nX,\"open\n");
  ASSERT_EQ(bad.warnings.size(), 1u) << "a header is skipped";
  ASSERT_EQ(bad.errors.size(), 4u);
  EXPECT_EQ(bad.errors[0].first, 3);
  EXPECT_NE(bad.errors[0].second.find("no serial"), std::string::npos);
  EXPECT_EQ(bad.errors[1].first, 4);
  EXPECT_EQ(bad.errors[2].first, 5);
  EXPECT_NE(bad.errors[2].second.find("twice"), std::string::npos);
  EXPECT_EQ(bad.errors[3].first, 6);

  std::string many;
  for (int i = 0; i < 5001; ++i) many += "SN" + std::to_string(100000 + i) + ",x\n";
  auto over = ParseConfiguratorCsv(many);
  ASSERT_EQ(over.errors.size(), 1u);
  EXPECT_EQ(over.errors[0].first, 5001);
}

TEST(SerialImportTest, OsVersionsCompareNumerically) {
  EXPECT_LT(CompareOsVersions("17.1", "17.10"), 0);
  EXPECT_EQ(CompareOsVersions("17", "17.0.0"), 0);
  EXPECT_GT(CompareOsVersions("18.0", "17.9.9"), 0);
  EXPECT_LT(CompareOsVersions("16.7.8", "17"), 0);
}

}  // namespace
}  // namespace mdmgw::configurator

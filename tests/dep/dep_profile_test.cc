// The DEP profile builder refuses locally what Apple would refuse, naming the field and Apple's
// code, and fills the gateway's defaults (name, enrollment URL, trust anchor).
#include "dep/dep_profile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"

namespace mdmgw::dep {
namespace {

DepProfileDefaults Defaults() {
  DepProfileDefaults d;
  d.profile_name = "corp";
  d.url = "https://mdm.example.com/enroll/dep/corp";
  return d;
}

std::string Refusal(const nlohmann::json& request) {
  auto r = BuildDepProfile(request, Defaults());
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().reason(), "profile_invalid") << r.status().message();
  return r.status().message();
}

TEST(DepProfileTest, DefaultsFillNameUrlAndAnchor) {
  DepProfileDefaults d = Defaults();
  d.anchor_certs = {"MIIBanchor"};
  auto r = BuildDepProfile(nlohmann::json::object(), d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->profile["profile_name"], "corp");
  EXPECT_EQ(r->profile["url"], "https://mdm.example.com/enroll/dep/corp");
  EXPECT_EQ(r->profile["anchor_certs"], nlohmann::json::array({"MIIBanchor"}));
  EXPECT_TRUE(r->devices.empty());

  auto given = BuildDepProfile({{"profile_name", "Given"},
                                {"url", "https://other.example/e"},
                                {"is_supervised", true},
                                {"is_mdm_removable", false},
                                {"await_device_configured", true},
                                {"skip_setup_items", {"Siri", "AppleID", "Siri"}},
                                {"department", "IT"},
                                {"language", "en"},
                                {"region", "US"},
                                {"devices", {"C02ABC123456", "DMX1234567"}}},
                               Defaults());
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->profile["profile_name"], "Given");
  EXPECT_EQ(given->profile["url"], "https://other.example/e");
  EXPECT_EQ(given->profile["skip_setup_items"], nlohmann::json::array({"Siri", "AppleID"}))
      << "repeats dropped";
  EXPECT_FALSE(given->profile.contains("devices")) << "devices travel separately";
  EXPECT_EQ(given->devices, (std::vector<std::string>{"C02ABC123456", "DMX1234567"}));
  EXPECT_TRUE(given->warnings.empty());
}

TEST(DepProfileTest, ApplesLimitsAreCheckedFirst) {
  EXPECT_NE(Refusal({{"profile_name", std::string(126, 'x')}}).find("CONFIG_NAME_INVALID"),
            std::string::npos);
  // Characters, not bytes: 125 two-byte characters are allowed.
  std::string accented;
  for (int i = 0; i < 125; ++i) accented += "\xC3\xA9";
  EXPECT_EQ(Refusal({{"profile_name", accented}}), "accepted");
  EXPECT_NE(Refusal({{"profile_name", accented + "\xC3\xA9"}}).find("125"), std::string::npos);
  EXPECT_NE(Refusal({{"profile_name", ""}}).find("CONFIG_NAME_REQUIRED"), std::string::npos);
  EXPECT_NE(Refusal({{"url", "http://plain.example/e"}}).find("https"), std::string::npos);
  EXPECT_NE(Refusal({{"url", "https://x/" + std::string(2000, 'a')}}).find("CONFIG_URL_INVALID"),
            std::string::npos);
  EXPECT_NE(Refusal({{"department", std::string(126, 'd')}}).find("DEPARTMENT_INVALID"),
            std::string::npos);
  EXPECT_NE(Refusal({{"support_phone_number", std::string(51, '1')}}).find("SUPPORT_PHONE_INVALID"),
            std::string::npos);
  EXPECT_NE(Refusal({{"support_email_address", "not-an-address"}}).find("SUPPORT_EMAIL_INVALID"),
            std::string::npos);
  EXPECT_NE(Refusal({{"org_magic", std::string(257, 'm')}}).find("MAGIC_INVALID"),
            std::string::npos);
  EXPECT_NE(Refusal({{"language", "English"}}).find("language"), std::string::npos);
  EXPECT_NE(Refusal({{"region", "us"}}).find("region"), std::string::npos);
  EXPECT_NE(Refusal({{"is_mdm_removable", false}}).find("FLAGS_INVALID"), std::string::npos);
  EXPECT_EQ(Refusal({{"is_mdm_removable", false}, {"is_supervised", true}}), "accepted");
  EXPECT_NE(Refusal({{"is_supervised", "yes"}}).find("is_supervised"), std::string::npos);
  EXPECT_NE(Refusal({{"profile_nmae", "typo"}}).find("profile_nmae"), std::string::npos)
      << "unknown keys are named, not dropped";
  EXPECT_NE(Refusal({{"devices", {1, 2}}}).find("devices"), std::string::npos);
  EXPECT_NE(Refusal({{"anchor_certs", {"bm90IGEgY2VydA=="}}}).find("X.509"), std::string::npos);
  EXPECT_NE(Refusal({{"profile_name", "\xFF\xFE"}}).find("UTF-8"), std::string::npos);
}

TEST(DepProfileTest, UnknownSkipKeysWarnAndRealCertificatesPass) {
  auto r = BuildDepProfile({{"skip_setup_items", {"Siri", "FutureScreen2031"}}}, Defaults());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("FutureScreen2031"), std::string::npos);
  EXPECT_TRUE(IsKnownSkipKey("AppleID"));
  EXPECT_FALSE(IsKnownSkipKey("appleid"));

  testing::TempDir dir;
  testing::TestCa ca(dir.path());
  std::ifstream in(ca.ca_file());
  std::stringstream pem;
  pem << in.rdbuf();
  std::string body = pem.str();
  size_t begin = body.find("-----BEGIN CERTIFICATE-----");
  size_t end = body.find("-----END CERTIFICATE-----");
  ASSERT_NE(begin, std::string::npos);
  std::string b64;
  for (char c : body.substr(begin + 27, end - begin - 27))
    if (c != '\n' && c != '\r') b64 += c;
  auto ok = BuildDepProfile({{"anchor_certs", {b64}}}, Defaults());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->profile["anchor_certs"][0], b64);
}

}  // namespace
}  // namespace mdmgw::dep

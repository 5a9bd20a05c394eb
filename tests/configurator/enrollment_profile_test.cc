// Enrollment profile parsing: required fields, the method table, updates that keep what they do
// not mention, and the SCEP challenge sealed and never shown.
#include "configurator/enrollment_profile.h"

#include <gtest/gtest.h>

#include "common/random.h"

namespace mdmgw::configurator {
namespace {

SecretBox Box() { return SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value(); }

nlohmann::json Scep() {
  return {{"mode", "scep"}, {"url", "https://scep.example.com/scep"}, {"challenge", "c-123"}};
}

TEST(EnrollmentProfileTest, CreateParsesAndSealsTheChallenge) {
  SecretBox box = Box();
  auto p = ParseEnrollmentProfile({{"name", "Corp iPads"},
                                   {"method", "dep"},
                                   {"locked", true},
                                   {"await_configuration", true},
                                   {"organization", "Example Org"},
                                   {"skip_setup_items", {"Siri", "Siri", "AppleID"}},
                                   {"pilot_groups", {"pilot"}},
                                   {"identity", Scep()}},
                                  nullptr, "ep_1", box);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->flags.supervised) << "dep: always supervised";
  EXPECT_TRUE(p->flags.locked);
  EXPECT_EQ(p->skip_setup_items, (std::vector<std::string>{"Siri", "AppleID"}));
  nlohmann::json shown = p->ToJson();
  EXPECT_EQ(shown["identity"]["challenge_set"], true);
  EXPECT_EQ(shown.dump().find("c-123"), std::string::npos) << "the challenge is never shown";
  EXPECT_EQ(p->ToRecord().settings_json.find("c-123"), std::string::npos) << "stored sealed";
  EXPECT_EQ(*OpenScepChallenge(*p, box), "c-123");
  EXPECT_FALSE(OpenScepChallenge(*p, Box()).ok()) << "another key cannot open it";

  auto back = EnrollmentProfileFromRecord(p->ToRecord());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), shown) << "the stored form round-trips";
}

TEST(EnrollmentProfileTest, RefusalsNameTheFieldOrTheRule) {
  SecretBox box = Box();
  auto reason = [&](const nlohmann::json& body) {
    auto p = ParseEnrollmentProfile(body, nullptr, "ep_x", box);
    return p.ok() ? std::string("accepted") : p.status().reason() + ": " + p.status().message();
  };
  nlohmann::json ok = {{"name", "n"}, {"method", "ota"}, {"identity", Scep()}};
  EXPECT_EQ(reason(ok), "accepted");
  auto with = [&](const char* k, nlohmann::json v) {
    nlohmann::json b = ok;
    b[k] = v;
    return reason(b);
  };
  EXPECT_NE(reason({{"method", "ota"}, {"identity", Scep()}}).find("name is required"),
            std::string::npos);
  EXPECT_NE(reason({{"name", "n"}, {"identity", Scep()}}).find("method is required"),
            std::string::npos);
  auto defaulted = ParseEnrollmentProfile({{"name", "n"}, {"method", "ota"}}, nullptr, "ep_d", box);
  ASSERT_TRUE(defaulted.ok());
  EXPECT_EQ(defaulted->identity.mode, "pkcs12") << "the gateway's own CA by default";
  EXPECT_NE(with("method", "usb").find("method must be one of"), std::string::npos);
  EXPECT_EQ(with("supervised", true).rfind("method_rule", 0), 0u);
  EXPECT_EQ(with("await_configuration", true).rfind("method_rule", 0), 0u);
  EXPECT_EQ(with("skip_setup_items", {"Siri"}).rfind("method_rule", 0), 0u);
  EXPECT_NE(with("colour", "red").find("unknown enrollment profile field \"colour\""),
            std::string::npos);
  EXPECT_NE(with("support_email", "nobody").find("support_email"), std::string::npos);
  EXPECT_EQ(with("identity", {{"mode", "pkcs12"}}), "accepted");
  EXPECT_NE(with("identity", {{"mode", "pkcs12"}, {"url", "https://x"}}).find("does not apply"),
            std::string::npos);
  EXPECT_NE(with("identity", {{"mode", "scep"}, {"url", "ftp://x"}}).find("identity.url"),
            std::string::npos);
  EXPECT_NE(with("identity", {{"mode", "scep"}, {"url", "https://s"}, {"key_size", 3000}})
                .find("key_size"),
            std::string::npos);
  EXPECT_NE(
      with("identity", {{"mode", "acme"}, {"url", "https://a/dir"}}).find("client_identifier"),
      std::string::npos);
  EXPECT_NE(with("identity", {{"mode", "acme"},
                              {"url", "https://a/dir"},
                              {"client_identifier", "c"},
                              {"key_type", "RSA"},
                              {"key_size", 2048}})
                .find("hardware_bound"),
            std::string::npos);
}

TEST(EnrollmentProfileTest, UpdateKeepsWhatItDoesNotMention) {
  SecretBox box = Box();
  auto p = ParseEnrollmentProfile(
      {{"name", "Lab"}, {"method", "dep"}, {"locked", true}, {"identity", Scep()}}, nullptr, "ep_2",
      box);
  ASSERT_TRUE(p.ok());
  auto renamed = ParseEnrollmentProfile({{"name", "Lab 2"}}, &*p, "ep_2", box);
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "Lab 2");
  EXPECT_TRUE(renamed->flags.locked);
  EXPECT_EQ(*OpenScepChallenge(*renamed, box), "c-123") << "the challenge survives";
  // Moving to usb-direct with the lock still asked for is refused; without it, allowed.
  auto moved =
      ParseEnrollmentProfile({{"method", "usb-direct"}, {"locked", true}}, &*p, "ep_2", box);
  EXPECT_EQ(moved.status().reason(), "method_rule");
  auto direct = ParseEnrollmentProfile({{"method", "usb-direct"}}, &*p, "ep_2", box);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_FALSE(direct->flags.locked);
  EXPECT_FALSE(direct->flags.supervised);
}

}  // namespace
}  // namespace mdmgw::configurator

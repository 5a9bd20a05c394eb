// The product's enrollment method table, and every combination it forbids refused naming the rule.
#include "configurator/enrollment_methods.h"

#include <gtest/gtest.h>

namespace mdmgw::configurator {
namespace {

std::string RuleError(EnrollmentMethod m, ProfileFlags f) {
  auto r = ResolveFlags(m, f);
  if (r.ok()) return "allowed";
  EXPECT_EQ(r.status().reason(), "method_rule");
  return r.status().message();
}

TEST(EnrollmentMethodsTest, TableMatchesTheProductCard) {
  ASSERT_EQ(EnrollmentMethods().size(), 5u);
  const auto& dep = TraitsOf(EnrollmentMethod::kDep);
  EXPECT_EQ(dep.name, "dep");
  EXPECT_TRUE(dep.factory_reset);
  EXPECT_EQ(dep.supervised, Rule::kYes);
  EXPECT_EQ(dep.locked, Rule::kOptional);
  EXPECT_EQ(dep.user_affinity, Rule::kOptional);
  EXPECT_EQ(dep.platforms, (std::vector<std::string_view>{"ios", "macos"}));
  const auto& sa = TraitsOf(EnrollmentMethod::kUsbSa);
  EXPECT_TRUE(sa.factory_reset);
  EXPECT_EQ(sa.supervised, Rule::kYes);
  EXPECT_EQ(sa.locked, Rule::kNo);
  EXPECT_EQ(sa.platforms, std::vector<std::string_view>{"ios"});
  const auto& direct = TraitsOf(EnrollmentMethod::kUsbDirect);
  EXPECT_FALSE(direct.factory_reset);
  EXPECT_EQ(direct.supervised, Rule::kNo);
  EXPECT_EQ(direct.user_affinity, Rule::kNo);
  const auto& ota = TraitsOf(EnrollmentMethod::kOta);
  EXPECT_EQ(ota.user_affinity, Rule::kYes);
  EXPECT_EQ(ota.supervised, Rule::kNo);
  const auto& dem = TraitsOf(EnrollmentMethod::kDem);
  EXPECT_EQ(dem.user_affinity, Rule::kNo);
  EXPECT_EQ(ParseEnrollmentMethod("usb-sa"), EnrollmentMethod::kUsbSa);
  EXPECT_EQ(ParseEnrollmentMethod("dem"), EnrollmentMethod::kDem);
  EXPECT_FALSE(ParseEnrollmentMethod("usb").has_value());

  auto json = EnrollmentMethodsJson();
  ASSERT_EQ(json["methods"].size(), 5u);
  EXPECT_EQ(json["methods"][2]["method"], "usb-direct");
  EXPECT_EQ(json["methods"][2]["locked"], "no");
  EXPECT_EQ(json["methods"][0]["supervised"], "yes");
}

TEST(EnrollmentMethodsTest, ForbiddenCombinationsNameTheRule) {
  EXPECT_NE(RuleError(EnrollmentMethod::kUsbDirect, {std::nullopt, true, std::nullopt})
                .find("usb-direct profiles cannot be locked"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kUsbSa, {std::nullopt, true, std::nullopt})
                .find("usb-sa profiles cannot be locked"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kOta, {true, std::nullopt, std::nullopt})
                .find("ota profiles cannot be supervised"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kOta, {std::nullopt, std::nullopt, false})
                .find("ota profiles are always bound to a user"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kDep, {false, std::nullopt, std::nullopt})
                .find("dep profiles are always supervised"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kUsbDirect, {std::nullopt, std::nullopt, true})
                .find("cannot be bound to a user"),
            std::string::npos);
  EXPECT_NE(RuleError(EnrollmentMethod::kDem, {std::nullopt, std::nullopt, true}).find("dem"),
            std::string::npos);
  EXPECT_EQ(RuleError(EnrollmentMethod::kDep, {true, true, true}), "allowed");

  // Defaults follow the table.
  auto dep = ResolveFlags(EnrollmentMethod::kDep, {});
  ASSERT_TRUE(dep.ok());
  EXPECT_TRUE(dep->supervised);
  EXPECT_FALSE(dep->locked);
  auto ota = ResolveFlags(EnrollmentMethod::kOta, {});
  ASSERT_TRUE(ota.ok());
  EXPECT_TRUE(ota->user_affinity);
  EXPECT_FALSE(ota->supervised);
}

}  // namespace
}  // namespace mdmgw::configurator

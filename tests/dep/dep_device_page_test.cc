// Reading Apple's device pages: Apple's documented shape, and shapes it does not document (wrong
// types, missing fields, not an object) read as empty instead of throwing out of the syncer.
#include "dep/dep_device_page.h"

#include <gtest/gtest.h>

namespace mdmgw::dep {
namespace {

TEST(DepDevicePageTest, FetchAndSyncPages) {
  auto fetch = nlohmann::json::parse(R"({"cursor":"c1","more_to_follow":true,"devices":[
      {"serial_number":"S1","model":"iPad","os":"iPadOS","profile_status":"empty"},
      {"model":"no serial: dropped"}]})");
  DepDevicePage f = ParseDepDevicePage(fetch, false, 1000);
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].serial, "S1");
  EXPECT_EQ(f.records[0].op_date, 1000);
  EXPECT_EQ(f.fetched, 1);
  EXPECT_EQ(f.cursor, "c1");
  EXPECT_TRUE(f.more_to_follow);

  auto sync = nlohmann::json::parse(R"({"cursor":"c2","more_to_follow":false,"devices":[
      {"serial_number":"A","op_type":"added","op_date":"2024-09-16T17:21:34Z"},
      {"serial_number":"M","op_type":"modified"},
      {"serial_number":"D","op_type":"deleted","op_date":"not a date"}]})");
  DepDevicePage s = ParseDepDevicePage(sync, true, 2000);
  ASSERT_EQ(s.records.size(), 3u);
  EXPECT_EQ(s.added, 1);
  EXPECT_EQ(s.modified, 1);
  EXPECT_EQ(s.deleted, 1);
  EXPECT_EQ(s.records[0].op_date, 1726507294);
  EXPECT_EQ(s.records[2].op_date, 2000) << "an unreadable op_date is now";
  EXPECT_TRUE(s.records[2].deleted);
  EXPECT_FALSE(s.more_to_follow);
}

TEST(DepDevicePageTest, UndocumentedShapesReadAsEmpty) {
  for (const char* text : {R"([])", R"("x")", R"(null)", R"({"devices":{"serial_number":"S"}})",
                           R"({"devices":[1,"two",null,[],{"serial_number":5}]})",
                           R"({"cursor":7,"more_to_follow":"true","devices":"none"})"}) {
    auto j = nlohmann::json::parse(text);
    DepDevicePage p = ParseDepDevicePage(j, true, 5);
    EXPECT_TRUE(p.records.empty()) << text;
    EXPECT_TRUE(p.cursor.empty()) << text;
    EXPECT_FALSE(p.more_to_follow) << text;
  }
}

}  // namespace
}  // namespace mdmgw::dep

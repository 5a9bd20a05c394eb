// plist_guard: device plists (XML and binary) are checked before libplist sees them. The binary
// cases are hand-built bplist00 files with hostile trailers, offsets and references — the inputs
// that make libplist 2.2 read out of bounds or recurse without end.
#include "common/plist_guard.h"

#include <gtest/gtest.h>

#include <string>

#include "common/encoding.h"

namespace mdmgw {
namespace {

std::string Fixture(const std::string& name) {
  auto f = ReadFile(std::string(MDMGW_FIXTURES_DIR) + "/nanomdm/mdm/testdata/" + name);
  EXPECT_TRUE(f.ok()) << name;
  return f.ok() ? *f : "";
}

std::string ToBinary(const std::string& xml) {
  plist_t root = nullptr;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &root);
  char* bin = nullptr;
  uint32_t len = 0;
  plist_to_bin(root, &bin, &len);
  std::string out(bin, len);
  plist_to_bin_free(bin);
  plist_free(root);
  return out;
}

// A bplist00 file from its objects (already encoded) with 1-byte offsets and refs, and a trailer
// whose fields may be overridden.
std::string Bplist(const std::vector<std::string>& objects, uint64_t top = 0,
                   int64_t table_offset_override = -1, uint64_t num_objects_override = 0,
                   unsigned char offset_size = 1) {
  std::string out = "bplist00";
  std::vector<uint64_t> offsets;
  for (const auto& o : objects) {
    offsets.push_back(out.size());
    out += o;
  }
  uint64_t table = out.size();
  for (uint64_t off : offsets) {
    for (int b = offset_size - 1; b >= 0; --b) {
      out.push_back(static_cast<char>(b >= 8 ? 0 : off >> (8 * b)));  // sizes > 8 are the test
    }
  }
  std::string trailer(32, '\0');
  trailer[6] = static_cast<char>(offset_size);
  trailer[7] = 1;
  uint64_t n = num_objects_override ? num_objects_override : objects.size();
  uint64_t t = table_offset_override >= 0 ? static_cast<uint64_t>(table_offset_override) : table;
  for (int i = 0; i < 8; ++i) {
    trailer[8 + i] = static_cast<char>(n >> (56 - 8 * i));
    trailer[16 + i] = static_cast<char>(top >> (56 - 8 * i));
    trailer[24 + i] = static_cast<char>(t >> (56 - 8 * i));
  }
  return out + trailer;
}

std::string Ascii(const std::string& s) {
  return std::string(1, static_cast<char>(0x50 | s.size())) + s;
}

TEST(PlistGuardTest, RealCheckInsParseInBothForms) {
  for (const char* name : {"Authenticate.1.plist", "Authenticate.2.plist", "TokenUpdate.1.plist",
                           "TokenUpdate.2.plist", "DeviceInformation.1.plist"}) {
    std::string xml = Fixture(name);
    auto parsed = ParseUntrustedPlist(xml, {});
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.status().ToString();
    EXPECT_EQ(plist_get_node_type(parsed->get()), PLIST_DICT);
    std::string bin = ToBinary(xml);
    ASSERT_TRUE(IsBinaryPlist(bin));
    auto parsed_bin = ParseUntrustedPlist(bin, {});
    ASSERT_TRUE(parsed_bin.ok()) << name << " (binary): " << parsed_bin.status().ToString();
    EXPECT_EQ(PlistString(parsed_bin->get(), "UDID"), PlistString(parsed->get(), "UDID"));
  }
}

TEST(PlistGuardTest, ValidHandBuiltBinaryPasses) {
  // {"a": "b"}
  std::string dict = std::string("\xD1\x01\x02", 3);
  auto ok = ParseUntrustedPlist(Bplist({dict, Ascii("a"), Ascii("b")}), {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(PlistString(ok->get(), "a"), "b");
}

TEST(PlistGuardTest, HostileTrailersAreRefused) {
  std::string dict = std::string("\xD1\x01\x02", 3);
  std::vector<std::string> objs = {dict, Ascii("a"), Ascii("b")};
  // Offset table far past the end (libplist would compute a wild pointer from it).
  auto far = CheckBinaryPlist(Bplist(objs, 0, 1LL << 40), {});
  EXPECT_EQ(far.reason(), "bad_plist");
  EXPECT_NE(far.message().find("offset table"), std::string::npos) << far.message();
  // More objects than the table holds.
  EXPECT_EQ(CheckBinaryPlist(Bplist(objs, 0, -1, 1000), {}).reason(), "bad_plist");
  // Top object out of range; zero objects; bad integer sizes.
  EXPECT_EQ(CheckBinaryPlist(Bplist(objs, 7), {}).reason(), "bad_plist");
  EXPECT_EQ(CheckBinaryPlist(Bplist(objs, 0, -1, 0xffffffffffffffffULL), {}).code(),
            StatusCode::kTooLarge);
  EXPECT_EQ(CheckBinaryPlist(Bplist(objs, 0, -1, 0, 9), {}).reason(), "bad_plist");
  // Truncated: no room for a trailer.
  EXPECT_EQ(CheckBinaryPlist("bplist00\x01\x02", {}).reason(), "bad_plist");
}

TEST(PlistGuardTest, HostileObjectsAreRefused) {
  // A reference to object 9 of 2.
  EXPECT_EQ(CheckBinaryPlist(Bplist({std::string("\xA1\x09", 2), Ascii("x")}), {}).reason(),
            "bad_plist");
  // A string claiming 200 bytes in a tiny file.
  std::string long_string = std::string("\x5F\x10\xC8", 3) + "abc";
  EXPECT_EQ(CheckBinaryPlist(Bplist({long_string}), {}).reason(), "bad_plist");
  // A dictionary key that is an integer.
  EXPECT_EQ(
      CheckBinaryPlist(
          Bplist({std::string("\xD1\x01\x02", 3), std::string("\x10\x05", 2), Ascii("v")}), {})
          .reason(),
      "bad_plist");
  // An unknown marker.
  EXPECT_EQ(CheckBinaryPlist(Bplist({std::string("\x70", 1)}), {}).reason(), "bad_plist");
}

TEST(PlistGuardTest, CyclesAndDepthAreBounded) {
  // An array containing itself: libplist would recurse until the stack ends.
  auto cycle = CheckBinaryPlist(Bplist({std::string("\xA1\x00", 2)}), {});
  EXPECT_EQ(cycle.code(), StatusCode::kTooLarge);
  // A chain of 40 nested arrays, deeper than the default 32.
  std::vector<std::string> chain;
  for (int i = 0; i < 40; ++i) chain.push_back(std::string("\xA1", 1) + static_cast<char>(i + 1));
  chain.push_back(Ascii("end"));
  EXPECT_EQ(CheckBinaryPlist(Bplist(chain), {}).code(), StatusCode::kTooLarge);
  PlistLimits deep;
  deep.max_depth = 64;
  EXPECT_TRUE(CheckBinaryPlist(Bplist(chain), deep).ok());
  // A diamond DAG that doubles per level: few objects, exponential visits → the node cap.
  std::vector<std::string> dag;
  for (int i = 0; i < 30; ++i) {
    dag.push_back(std::string("\xA2", 1) + static_cast<char>(i + 1) + static_cast<char>(i + 1));
  }
  dag.push_back(Ascii("leaf"));
  PlistLimits wide;
  wide.max_depth = 64;
  EXPECT_EQ(CheckBinaryPlist(Bplist(dag), wide).code(), StatusCode::kTooLarge);
}

TEST(PlistGuardTest, XmlDepthSizeAndEntities) {
  std::string deep = "<?xml version=\"1.0\"?><plist version=\"1.0\">";
  for (int i = 0; i < 50; ++i) deep += "<array>";
  for (int i = 0; i < 50; ++i) deep += "</array>";
  deep += "</plist>";
  EXPECT_EQ(CheckXmlPlist(deep, {}).code(), StatusCode::kTooLarge);
  PlistLimits small;
  small.max_bytes = 100;
  EXPECT_EQ(CheckXmlPlist(Fixture("TokenUpdate.2.plist"), small).code(), StatusCode::kTooLarge);
  std::string entity =
      "<?xml version=\"1.0\"?><!DOCTYPE plist [<!ENTITY a \"aaaa\">]><plist><string>&a;</string>"
      "</plist>";
  EXPECT_EQ(CheckXmlPlist(entity, {}).reason(), "bad_plist");
  EXPECT_EQ(ParseUntrustedPlist("not a plist at all", {}).status().reason(), "bad_plist");
  EXPECT_EQ(ParseUntrustedPlist("<plist><dict><key>a</key>", {}).status().reason(), "bad_plist");
}

}  // namespace
}  // namespace mdmgw

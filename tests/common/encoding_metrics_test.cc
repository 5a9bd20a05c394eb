#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/metrics.h"
#include "common/result.h"

namespace mdmgw {
namespace {

TEST(EncodingTest, Base64RoundTripsEveryLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < 40; ++n) {
    std::string in = all.substr(n, n);
    auto out = Base64Decode(Base64Encode(in));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, in) << n;
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmE"), "fooba") << "line breaks and missing padding are tolerated";
  EXPECT_FALSE(Base64Decode("Zm9v*").ok());
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(EncodingTest, Hex) {
  EXPECT_EQ(HexEncode(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), std::string("\x00\xab\xff", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(EncodingTest, PercentEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("abcXYZ019-._~"), "abcXYZ019-._~");
  EXPECT_EQ(PercentEncode("a b+c/=&%?#"), "a%20b%2Bc%2F%3D%26%25%3F%23");
  EXPECT_EQ(PercentEncode(std::string("\xE2\x98\x83\x00", 4)), "%E2%98%83%00");
}

TEST(EncodingTest, Rfc3339IsUtc) {
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339(1827811563), "2027-12-03T05:26:03Z");
}

TEST(ResultTest, CarriesValueOrStatus) {
  Result<int> good = 5;
  Result<int> bad = Status::NotFound("gone", "push_cert_missing");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsNotFound());
  EXPECT_EQ(bad.status().reason(), "push_cert_missing");
  EXPECT_EQ(Status::Internal("x").reason(), "internal");
  EXPECT_EQ(bad.status().WithContext("loading").message(), "loading: gone");
}

TEST(MetricsTest, RendersPrometheusText) {
  metrics::Registry r;
  auto& c = r.AddCounter("reqs_total", "Requests", {"route", "status"});
  c.WithLabels({"/a", "200"}).Inc();
  c.WithLabels({"/a", "200"}).Inc();
  c.WithLabels({"/b\"x", "500"}).Inc();
  auto& h = r.AddHistogram("lat_seconds", "Latency", {0.1, 1}, {"route"});
  h.WithLabels({"/a"}).Observe(0.05);
  h.WithLabels({"/a"}).Observe(0.5);
  h.WithLabels({"/a"}).Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE reqs_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("reqs_total{route=\"/a\",status=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("reqs_total{route=\"/b\\\"x\",status=\"500\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_count{route=\"/a\"} 3\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace mdmgw

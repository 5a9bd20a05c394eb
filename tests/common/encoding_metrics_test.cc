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

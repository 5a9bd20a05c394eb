// The HTTP/2 codec without sockets: bytes in, bytes out (STYLE §12).
#include <gtest/gtest.h>

#include "net/h2_server_codec.h"

namespace mdmgw::net {
namespace {

class Collect : public H2ServerCodec::Listener {
 public:
  uint64_t BodyLimit(const Request&) override { return 1024; }
  void OnRequest(int32_t id, std::unique_ptr<Request> r) override {
    requests.emplace_back(id, std::move(r));
  }
  std::vector<std::pair<int32_t, std::unique_ptr<Request>>> requests;
};

TEST(H2ServerCodecTest, RejectsABadPrefaceWithGoaway) {
  Collect listener;
  H2ServerCodec codec(H2Limits{}, listener, Request{});
  ASSERT_TRUE(codec.Start().ok());
  std::string bad = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  Status s = codec.Receive(reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
  EXPECT_FALSE(s.ok());
  std::string out;
  ASSERT_TRUE(codec.Drain(&out).ok());
  EXPECT_FALSE(out.empty()) << "SETTINGS (and GOAWAY) queued for the peer";
  EXPECT_TRUE(listener.requests.empty());
}

TEST(H2ServerCodecTest, StartQueuesServerSettings) {
  Collect listener;
  H2ServerCodec codec(H2Limits{7, 4096}, listener, Request{});
  ASSERT_TRUE(codec.Start().ok());
  std::string out;
  ASSERT_TRUE(codec.Drain(&out).ok());
  ASSERT_GE(out.size(), 9u);
  EXPECT_EQ(static_cast<uint8_t>(out[3]), NGHTTP2_SETTINGS) << "first frame is SETTINGS";
  EXPECT_EQ(codec.open_streams(), 0u);
  EXPECT_FALSE(codec.Finished());
}

}  // namespace
}  // namespace mdmgw::net

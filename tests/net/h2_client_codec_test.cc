// H2ClientCodec against H2ServerCodec in memory (no sockets): SETTINGS slow start seen by the
// client as it changes, responses matched to tags, GOAWAY after a response: streams above
// last-stream-id reported unprocessed and never handed to the server's handler.
#include "net/h2_client_codec.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <vector>

#include "net/h2_server_codec.h"

namespace mdmgw::net {
namespace {

class ServerSide : public H2ServerCodec::Listener {
 public:
  uint64_t BodyLimit(const Request&) override { return 1 << 20; }
  void OnRequest(int32_t stream_id, std::unique_ptr<Request> request) override {
    handled.push_back(request->path);
    pending.emplace_back(stream_id, std::move(request));
  }
  std::vector<std::string> handled;
  std::vector<std::pair<int32_t, std::unique_ptr<Request>>> pending;
};

class ClientSide : public H2ClientCodec::Listener {
 public:
  void OnResponse(uint64_t tag, H2ClientResponse response) override {
    responses[tag] = std::move(response);
  }
  void OnStreamFailed(uint64_t tag, uint32_t, bool unprocessed) override {
    failed[tag] = unprocessed;
  }
  void OnGoaway(int32_t last, uint32_t, std::string debug) override {
    goaway_last = last;
    goaway_debug = debug;
  }
  std::map<uint64_t, H2ClientResponse> responses;
  std::map<uint64_t, bool> failed;
  int32_t goaway_last = -1;
  std::string goaway_debug;
};

class H2ClientCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    H2Limits limits;
    limits.max_concurrent_streams = 50;
    limits.initial_max_concurrent_streams = 1;
    server_ = std::make_unique<H2ServerCodec>(limits, server_side_, Request{});
    client_ = std::make_unique<H2ClientCodec>(client_side_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(client_->Start().ok());
  }
  void Pump() {
    for (int i = 0; i < 20; ++i) {
      std::string c2s, s2c;
      ASSERT_TRUE(client_->Drain(&c2s).ok());
      if (!c2s.empty()) {
        ASSERT_TRUE(
            server_->Receive(reinterpret_cast<const uint8_t*>(c2s.data()), c2s.size()).ok());
      }
      ASSERT_TRUE(server_->Drain(&s2c).ok());
      if (!s2c.empty()) {
        ASSERT_TRUE(
            client_->Receive(reinterpret_cast<const uint8_t*>(s2c.data()), s2c.size()).ok());
      }
      if (c2s.empty() && s2c.empty()) return;
    }
  }
  void Submit(uint64_t tag) {
    paths_.push_back("/3/device/" + std::to_string(tag));
    H2ClientHeader headers[] = {{"apns-push-type", "mdm"}};
    H2ClientRequest r;
    r.path = paths_.back();
    r.authority = "apns.test";
    r.headers = headers;
    r.header_count = 1;
    r.body = "{\"mdm\":\"x\"}";
    ASSERT_TRUE(client_->Submit(r, tag).ok());
  }
  void AnswerAll(bool close_after_first = false) {
    bool first = true;
    for (auto& [id, req] : server_side_.pending) {
      Response resp;
      resp.status = 200;
      resp.headers.Add("apns-id", "id-" + req->path);
      if (close_after_first && first) {
        resp.close_connection = true;
        resp.goaway_debug = "{\"reason\":\"Shutdown\"}";
      }
      first = false;
      server_->SubmitResponse(id, std::move(resp));
    }
    server_side_.pending.clear();
  }

  ServerSide server_side_;
  ClientSide client_side_;
  std::unique_ptr<H2ServerCodec> server_;
  std::unique_ptr<H2ClientCodec> client_;
  std::deque<std::string> paths_;
};

TEST_F(H2ClientCodecTest, FollowsTheServersConcurrencyAsItRises) {
  Pump();
  EXPECT_EQ(client_->peer_max_concurrent_streams(), 1u) << "the server starts at 1";
  Submit(1);
  Pump();
  AnswerAll();
  Pump();
  ASSERT_EQ(client_side_.responses.count(1), 1u);
  EXPECT_EQ(client_side_.responses[1].status, 200);
  EXPECT_EQ(client_side_.responses[1].Header("apns-id"), "id-/3/device/1");
  EXPECT_EQ(client_->peer_max_concurrent_streams(), 50u) << "raised after the first answer";
  for (uint64_t t = 2; t <= 40; ++t) Submit(t);
  Pump();
  EXPECT_EQ(server_side_.pending.size(), 39u);
  AnswerAll();
  Pump();
  EXPECT_EQ(client_side_.responses.size(), 40u);
  EXPECT_EQ(client_->open_streams(), 0u);
}

TEST_F(H2ClientCodecTest, GoawayAfterAResponseRefusesNewerStreamsUnprocessed) {
  Submit(1);
  Pump();
  AnswerAll();
  Pump();
  // Ten requests reach the server; it answers the first with GOAWAY. Five more are sent after
  // the server decided but before the client has seen the GOAWAY.
  for (uint64_t t = 10; t < 20; ++t) Submit(t);
  Pump();
  ASSERT_EQ(server_side_.pending.size(), 10u);
  AnswerAll(/*close_after_first=*/true);
  for (uint64_t t = 20; t < 25; ++t) Submit(t);
  Pump();
  EXPECT_EQ(client_side_.goaway_debug, "{\"reason\":\"Shutdown\"}");
  for (uint64_t t = 10; t < 20; ++t)
    EXPECT_EQ(client_side_.responses.count(t), 1u) << "handled before the GOAWAY: answered " << t;
  for (uint64_t t = 20; t < 25; ++t) {
    ASSERT_EQ(client_side_.failed.count(t), 1u) << t;
    EXPECT_TRUE(client_side_.failed[t]) << "above last-stream-id: unprocessed, safe to resend";
  }
  EXPECT_EQ(server_side_.handled.size(), 11u) << "the server's handler never saw them";
  EXPECT_FALSE(client_->Submit(H2ClientRequest{}, 99).ok()) << "no new streams after GOAWAY";
}

}  // namespace
}  // namespace mdmgw::net

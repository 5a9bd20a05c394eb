// The server core over real loopback sockets and real TLS: both protocols reach one handler, and
// every limit holds against hostile input while /healthz keeps answering.
#include "net/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fixtures/pki/test_pki.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::net {
namespace {

using namespace std::chrono_literals;
using mdmgw::testing::H1Get;
using mdmgw::testing::H1RoundTrip;
using mdmgw::testing::H2Get;
using mdmgw::testing::H2TestClient;
using mdmgw::testing::TlsTestConnection;

// Answers after a delay from its own thread (as an upstream call would), to keep streams open.
class Delayer {
 public:
  Delayer() : thread_([this] { Loop(); }) {}
  ~Delayer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void After(std::chrono::milliseconds delay, std::function<void()> fn) {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::chrono::steady_clock::now() + delay, std::move(fn));
    cv_.notify_all();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      auto now = std::chrono::steady_clock::now();
      std::vector<std::function<void()>> due;
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->first <= now) {
          due.push_back(std::move(it->second));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      lock.unlock();
      for (auto& fn : due) fn();
      lock.lock();
      cv_.wait_for(lock, 5ms);
    }
    for (auto& [t, fn] : queue_) fn();  // never leave a request unanswered
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::function<void()>>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class TestHandler : public RequestHandler {
 public:
  explicit TestHandler(Delayer& delayer) : delayer(delayer) {}
  uint64_t MaxBodyBytes(const Request& r) const override {
    return r.path == "/small" ? 1024 : 1 << 20;
  }

  void Handle(std::unique_ptr<Request> req, Respond respond) override {
    requests_seen++;
    if (req->path == "/healthz") {
      respond(Response::Text(200, "ok"));
    } else if (req->path == "/echo" || req->path == "/small") {
      nlohmann::json j = {
          {"method", req->method},
          {"path", req->path},
          {"query", req->query},
          {"body_size", req->body.size()},
          {"protocol", req->protocol == Protocol::kHttp2 ? "h2" : "http/1.1"},
          {"x_test", std::string(req->headers.Get("x-test").value_or(""))},
          {"peer_cert", req->peer_certificate != nullptr},
          {"verified", req->peer_certificate ? req->peer_certificate->verified : false},
          {"remote_is_loopback", req->remote_address.rfind("127.0.0.1:", 0) == 0}};
      if (req->body.size() < 64) j["body"] = req->body;
      respond(Response::Json(200, j));
    } else if (req->path == "/slow") {
      int now = ++in_flight;
      int prev = max_in_flight.load();
      while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
      }
      delayer.After(slow_delay, [this, respond] {
        --in_flight;
        respond(Response::Text(200, "slow done"));
      });
    } else {
      respond(Response::JsonError(404, "not_found", "no such path"));
    }
  }

  std::atomic<int> requests_seen{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::chrono::milliseconds slow_delay{100};
  Delayer& delayer;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(ServerLimits limits = DefaultLimits(), bool with_client_ca = false) {
    server_.reset();
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.tls_cert_file = server_cert_.cert_file;
    options.tls_key_file = server_cert_.key_file;
    if (with_client_ca) options.client_ca_file = ca_.ca_file();
    options.limits = limits;
    auto server = Server::Create(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }

  static ServerLimits DefaultLimits() {
    ServerLimits l;
    l.max_header_bytes = 16 << 10;
    l.max_concurrent_streams = 100;
    l.idle_timeout = 400ms;
    l.read_timeout = 5s;
    l.handshake_timeout = 2s;
    return l;
  }

  void ExpectHealthy() {
    auto h2 = H2Get(port_, "/healthz");
    EXPECT_EQ(h2.status, 200) << "h2 /healthz after the test";
    auto h1 = H1Get(port_, "/healthz");
    EXPECT_EQ(h1.status, 200) << "HTTP/1.1 /healthz after the test";
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  mdmgw::testing::IssuedFiles server_cert_ = ca_.IssueServer("server");
  std::unique_ptr<Delayer> delayer_ = std::make_unique<Delayer>();
  TestHandler handler_{*delayer_};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;

  // Every Respond must run before the server is destroyed (net/response.h): flush the delayer
  // first.
  void TearDown() override { delayer_.reset(); }
};

TEST_F(ServerTest, BothProtocolsReachTheSameHandler) {
  auto h2 = H2Get(port_, "/echo?a=1&b=two", {{"x-test", "hello"}});
  ASSERT_EQ(h2.status, 200);
  auto j2 = nlohmann::json::parse(h2.body);
  EXPECT_EQ(j2["protocol"], "h2");
  EXPECT_EQ(j2["path"], "/echo");
  EXPECT_EQ(j2["query"], "a=1&b=two");
  EXPECT_EQ(j2["x_test"], "hello");
  EXPECT_EQ(j2["remote_is_loopback"], true);
  EXPECT_EQ(h2.headers.at("content-type"), "application/json");

  auto h1 = H1Get(port_, "/echo?a=1&b=two", "X-Test: hello\r\n");
  ASSERT_EQ(h1.status, 200);
  auto j1 = nlohmann::json::parse(h1.body);
  EXPECT_EQ(j1["protocol"], "http/1.1");
  j1.erase("protocol");
  j2.erase("protocol");
  EXPECT_EQ(j1, j2) << "the handler sees the same request over both protocols";
}

TEST_F(ServerTest, AlpnPrefersH2AndFallsBackToHttp11) {
  auto h2 = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(h2);
  EXPECT_EQ(h2->alpn(), "h2");
  auto none = TlsTestConnection::Open(port_, "");
  ASSERT_TRUE(none);
  auto res = H1RoundTrip(*none, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(res.status, 200) << "no ALPN means HTTP/1.1";
}

TEST_F(ServerTest, BodiesArriveWholeOverBothProtocols) {
  std::string body(300 * 1024, 'b');
  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("POST", "/echo", {}, body);
  ASSERT_TRUE(client.RunUntilDone(10s));
  ASSERT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(nlohmann::json::parse(client.stream(id).body)["body_size"], body.size());

  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  auto res = H1RoundTrip(*h1, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(nlohmann::json::parse(res.body)["body_size"], body.size());
  // Keep-alive: the same connection serves a second request.
  res = H1RoundTrip(*h1, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(res.status, 200);
}

TEST_F(ServerTest, TwoMebibyteBodyGets413) {
  std::string body(2 << 20, 'x');
  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("POST", "/echo", {}, body);
  ASSERT_TRUE(client.RunUntilDone(10s));
  EXPECT_EQ(client.stream(id).status, 413);
  auto err = nlohmann::json::parse(client.stream(id).body);
  EXPECT_EQ(err["error"]["code"], "body_too_large");

  // Declared length over the limit: refused before the body is read.
  int32_t declared = 0;
  {
    auto conn2 = TlsTestConnection::Open(port_, "h2");
    H2TestClient c2(std::move(conn2));
    declared = c2.Submit("POST", "/echo", {{"content-length", std::to_string(body.size())}}, body);
    ASSERT_TRUE(c2.RunUntilDone(10s));
    EXPECT_EQ(c2.stream(declared).status, 413);
  }

  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  auto res = H1RoundTrip(*h1, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 1000));
  EXPECT_EQ(res.status, 413);
  EXPECT_NE(res.body.find("body_too_large"), std::string::npos);

  // Per-route limit: /small takes at most 1 KiB.
  auto small = TlsTestConnection::Open(port_, "http/1.1");
  res = H1RoundTrip(*small, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" +
                                std::string(2048, 's'));
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(handler_.requests_seen.load(), 0) << "no oversized request reached the handler";
  ExpectHealthy();
}

TEST_F(ServerTest, OversizedHeaderBlockIsRefused) {
  std::string big(20 * 1024, 'h');
  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  auto res = H1RoundTrip(*h1, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  EXPECT_EQ(res.status, 431);

  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", "/echo", {{"x-big", big}});
  ASSERT_TRUE(client.RunUntilDone(5s));
  const auto& s = client.stream(id);
  EXPECT_TRUE(s.status == 431 || (s.reset && s.status == 0)) << "status " << s.status;
  EXPECT_EQ(handler_.requests_seen.load(), 0);
  ExpectHealthy();
}

TEST_F(ServerTest, GarbageInsteadOfTlsHelloClosesTheConnection) {
  for (const std::string& garbage :
       {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("\x16\x03\x01\xff\xff garbage garbage", 22), std::string(4096, '\x00')}) {
    int fd = mdmgw::testing::ConnectTcp(port_);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(garbage.size()));
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string got;
    char buf[512];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) got.append(buf, static_cast<size_t>(n));
    EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET))
        << "connection should be closed, errno " << errno;
    EXPECT_EQ(got.find("HTTP/"), std::string::npos) << "no HTTP answer to a non-TLS client";
    ::close(fd);
  }
  ExpectHealthy();
}

TEST_F(ServerTest, GarbageAfterTheHandshakeGetsAClearErrorAndAClose) {
  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  auto res = H1RoundTrip(*h1, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("bad_request"), std::string::npos) << res.body;
  EXPECT_TRUE(h1->WaitClosed(3s));

  // Not the h2 preface: closed (RFC 9113 §3.4 lets the server omit GOAWAY here).
  auto h2 = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(h2);
  ASSERT_TRUE(h2->WriteAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(h2->WaitClosed(3s)) << "a broken h2 preface closes the connection";

  // A valid preface and SETTINGS, then DATA on stream 0: a connection error, GOAWAY, close.
  auto bad_frame = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(bad_frame);
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  preface += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);    // SETTINGS, empty
  preface += std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10);  // DATA, stream 0
  ASSERT_TRUE(bad_frame->WriteAll(preface));
  std::string bytes;
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i) closed = bad_frame->Read(&bytes, 100ms) == 0;
  EXPECT_TRUE(closed);
  uint32_t goaway_error = 0xffffffff;
  for (size_t off = 0; off + 9 <= bytes.size();) {
    size_t len = (static_cast<uint8_t>(bytes[off]) << 16) |
                 (static_cast<uint8_t>(bytes[off + 1]) << 8) | static_cast<uint8_t>(bytes[off + 2]);
    if (static_cast<uint8_t>(bytes[off + 3]) == NGHTTP2_GOAWAY && off + 9 + 8 <= bytes.size()) {
      goaway_error = static_cast<uint8_t>(bytes[off + 9 + 7]);
    }
    off += 9 + len;
  }
  EXPECT_EQ(goaway_error, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR))
      << "GOAWAY(PROTOCOL_ERROR) expected";
  EXPECT_EQ(handler_.requests_seen.load(), 0);
  ExpectHealthy();
}

TEST_F(ServerTest, ThousandStreamsOnOneConnectionAreCappedAtTheLimit) {
  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  // Tell nghttp2 the server allows 2000 so all 1000 HEADERS go out before its SETTINGS are read.
  H2TestClient client(std::move(conn), 2000);
  std::vector<int32_t> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(client.Submit("GET", "/slow"));
  ASSERT_TRUE(client.RunUntilDone(30s));
  int served = 0;
  int refused = 0;
  int other = 0;
  for (int32_t id : ids) {
    const auto& s = client.stream(id);
    if (s.status == 200) {
      served++;
    } else if (s.reset && s.rst_error == NGHTTP2_REFUSED_STREAM) {
      refused++;
    } else {
      other++;
    }
  }
  EXPECT_EQ(served + refused, 1000) << "other outcomes: " << other;
  EXPECT_GE(served, 100) << "the first 100 streams are served";
  EXPECT_GT(refused, 0) << "streams over the limit are refused (RFC 9113 §5.1.2)";
  EXPECT_LE(handler_.max_in_flight.load(), 100)
      << "never more than the configured streams served at once";
  EXPECT_FALSE(client.connection_closed())
      << "refusing streams is a stream error, not a connection error";
  ExpectHealthy();
}

TEST_F(ServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  ASSERT_EQ(H1RoundTrip(*h1, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(h1->WaitClosed(5s)) << "HTTP/1.1 idle connection left open";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms) << "closed before the idle timeout";

  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", "/healthz");
  ASSERT_TRUE(client.RunUntilDone(5s));
  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_TRUE(client.RunUntilClosed(5s)) << "h2 idle connection left open";
  EXPECT_TRUE(client.goaway_received()) << "an idle h2 connection gets GOAWAY before the close";

  // A connection that never sends anything after the handshake is closed too.
  auto silent = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(silent);
  EXPECT_TRUE(silent->WaitClosed(5s));
  ExpectHealthy();
}

TEST_F(ServerTest, ABodyThatStopsArrivingIsCutAtTheReadTimeout) {
  ServerLimits limits = DefaultLimits();
  limits.read_timeout = 400ms;
  limits.idle_timeout = 10s;
  StartServer(limits);
  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  ASSERT_TRUE(
      h1->WriteAll("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(h1->WaitClosed(5s)) << "a stalled HTTP/1.1 body must not hold the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s) << "closed by the read timeout, not idle";

  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  // HEADERS without END_STREAM and then nothing: the stream stays open, the connection is cut.
  client.SubmitStalled("POST", "/echo", {{"content-length", "100"}});
  ASSERT_FALSE(client.RunUntilDone(200ms)) << "the request cannot complete";
  EXPECT_TRUE(client.RunUntilClosed(5s)) << "a stalled h2 request must not hold the connection";
  EXPECT_EQ(handler_.requests_seen.load(), 0);
  ExpectHealthy();
}

// read_timeout bounds the peer's sending; once a request is whole, a handler that takes longer
// (an admin call such as sync?wait=1) still gets its answer out, over both protocols.
TEST_F(ServerTest, AHandlerSlowerThanTheReadTimeoutStillAnswers) {
  ServerLimits limits = DefaultLimits();
  limits.read_timeout = 300ms;
  limits.idle_timeout = 300ms;
  StartServer(limits);
  handler_.slow_delay = 1200ms;

  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", "/slow");
  ASSERT_TRUE(client.RunUntilDone(5s)) << "the h2 connection was cut while the handler worked";
  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(client.stream(id).body, "slow done");

  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  auto res = H1RoundTrip(*h1, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 5s);
  EXPECT_EQ(res.status, 200) << "the HTTP/1.1 connection was cut while the handler worked";
  EXPECT_EQ(res.body, "slow done");
  // And the connections still time out once idle.
  EXPECT_TRUE(h1->WaitClosed(5s));
  EXPECT_TRUE(client.RunUntilClosed(5s));
  ExpectHealthy();
}

// A handler that never finishes does not hold the connection for ever: handler_timeout cuts it.
TEST_F(ServerTest, AHandlerOverTheHandlerTimeoutHasItsConnectionClosed) {
  ServerLimits limits = DefaultLimits();
  limits.read_timeout = 5s;
  limits.handler_timeout = 400ms;
  StartServer(limits);
  handler_.slow_delay = 3s;

  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  client.Submit("GET", "/slow");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.RunUntilClosed(5s)) << "h2 connection held past the handler timeout";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms) << "cut by the handler timeout";

  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  ASSERT_TRUE(h1->WriteAll("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(h1->WaitClosed(5s)) << "HTTP/1.1 connection held past the handler timeout";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms) << "cut by the handler timeout";
  ExpectHealthy();
}

TEST_F(ServerTest, SlowHandshakeIsCutAtTheHandshakeTimeout) {
  int fd = mdmgw::testing::ConnectTcp(port_);
  ASSERT_GE(fd, 0);
  timeval tv{6, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64];
  auto start = std::chrono::steady_clock::now();
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);  // we never send a ClientHello
  EXPECT_LE(n, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ::close(fd);
  ExpectHealthy();
}

TEST_F(ServerTest, ClientCertificateIsCapturedAndVerifiedAgainstTheCa) {
  StartServer(DefaultLimits(), /*with_client_ca=*/true);
  auto device = ca_.IssueClient("device", "device-1");
  mdmgw::testing::TempDir other_dir;
  mdmgw::testing::TestCa other_ca(other_dir.path(), "other CA");
  auto stranger = other_ca.IssueClient("stranger", "stranger");

  auto check = [&](const mdmgw::testing::IssuedFiles* identity, bool want_cert,
                   bool want_verified) {
    auto conn = TlsTestConnection::Open(port_, "h2", identity);
    ASSERT_TRUE(conn);
    H2TestClient client(std::move(conn));
    int32_t id = client.Submit("GET", "/echo");
    ASSERT_TRUE(client.RunUntilDone(5s));
    ASSERT_EQ(client.stream(id).status, 200);
    auto j = nlohmann::json::parse(client.stream(id).body);
    EXPECT_EQ(j["peer_cert"], want_cert);
    EXPECT_EQ(j["verified"], want_verified);
  };
  check(&device, true, true);
  check(&stranger, true, false);
  check(nullptr, false, false);
}

TEST_F(ServerTest, ConnectionsOverTheMaximumAreClosed) {
  ServerLimits limits = DefaultLimits();
  limits.max_connections = 2;
  limits.idle_timeout = 10s;
  StartServer(limits);
  auto a = TlsTestConnection::Open(port_, "http/1.1");
  auto b = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(a && b);
  std::string error;
  auto c = TlsTestConnection::Open(port_, "http/1.1", nullptr, &error);
  EXPECT_FALSE(c) << "third connection should be refused";
  a.reset();
  // The slot frees once the server notices the close.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    std::this_thread::sleep_for(20ms);
    served = H1Get(port_, "/healthz").status == 200;
  }
  EXPECT_TRUE(served);
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinishAndSendsGoaway) {
  handler_.slow_delay = 300ms;
  auto conn = TlsTestConnection::Open(port_, "h2");
  ASSERT_TRUE(conn);
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", "/slow");
  auto h1 = TlsTestConnection::Open(port_, "http/1.1");
  ASSERT_TRUE(h1);
  ASSERT_TRUE(h1->WriteAll("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Wait until both requests are inside the handler.
  client.RunUntilDone(100ms);
  for (int i = 0; i < 100 && handler_.in_flight.load() < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(handler_.in_flight.load(), 2);

  std::thread stopper([this] { server_->Shutdown(5s); });
  ASSERT_TRUE(client.RunUntilDone(5s));
  EXPECT_EQ(client.stream(id).status, 200) << "in-flight h2 request completed";
  EXPECT_EQ(client.stream(id).body, "slow done");
  EXPECT_TRUE(client.goaway_received()) << "GOAWAY sent on shutdown";
  EXPECT_GE(client.goaway_last_stream_id(), id);

  auto res = H1RoundTrip(*h1, "", 5s);
  EXPECT_EQ(res.status, 200) << "in-flight HTTP/1.1 request completed";
  EXPECT_EQ(res.headers["connection"], "close");
  stopper.join();
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_LT(mdmgw::testing::ConnectTcp(port_), 0) << "no longer accepting";
}

}  // namespace
}  // namespace mdmgw::net

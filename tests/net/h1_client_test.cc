// The outbound HTTP/1.1 client against a real TLS server (ours) and a minimal plain-TCP server.
#include "net/h1_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fixtures/pki/test_pki.h"
#include "net/server.h"

namespace mdmgw::net {
namespace {

using namespace std::chrono_literals;

// A one-thread plain HTTP/1.1 server: answers each request with "n=<request number>", keeps the
// connection open unless |close_after_each| is set; with |never_answer| it reads and stays silent.
class PlainServer {
 public:
  explicit PlainServer(bool close_after_each = false, bool never_answer = false)
      : close_after_each_(close_after_each), never_answer_(never_answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~PlainServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      accepted_++;
      std::string buf;
      char tmp[4096];
      for (;;) {
        size_t end = buf.find("\r\n\r\n");
        if (end != std::string::npos) {
          size_t need = 0;
          size_t cl = buf.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) need = std::stoul(buf.substr(cl + 16));
          if (buf.size() >= end + 4 + need) {
            {
              std::lock_guard lock(mu_);
              last_ = buf.substr(0, end + 4 + need);
            }
            buf.erase(0, end + 4 + need);
            if (never_answer_) continue;
            std::string body = "n=" + std::to_string(++served_);
            std::string res = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nX-Echo: yes\r\n\r\n" + body;
            ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
            if (close_after_each_) break;
            continue;
          }
        }
        ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
        if (n <= 0) break;
        buf.append(tmp, static_cast<size_t>(n));
      }
      ::close(c);
    }
  }
  int fd_;
  uint16_t port_ = 0;
  bool close_after_each_;
  bool never_answer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  int served_ = 0;
  std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

std::unique_ptr<H1Client> NewClient(const std::string& ca_file = "") {
  H1ClientOptions options;
  options.ca_file = ca_file;
  auto client = H1Client::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(client).value();
}

TEST(H1ClientTest, ReusesKeepAliveConnections) {
  PlainServer server;
  auto client = NewClient();
  for (int i = 1; i <= 3; ++i) {
    ClientRequest req;
    req.method = "PUT";
    req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/mdm?x=1";
    req.headers.Add("Content-Type", "application/x-apple-aspen-mdm-checkin");
    req.body = "<plist>" + std::to_string(i) + "</plist>";
    auto res = client->SendSync(req);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "n=" + std::to_string(i));
    EXPECT_EQ(res->headers.Get("x-echo").value_or(""), "yes");
  }
  EXPECT_EQ(server.accepted(), 1) << "one connection for three requests";
  EXPECT_EQ(client->connections_opened(), 1u);
  std::string last = server.last_request();
  EXPECT_NE(last.find("PUT /mdm?x=1 HTTP/1.1"), std::string::npos) << last;
  EXPECT_NE(last.find("<plist>3</plist>"), std::string::npos) << "body forwarded byte for byte";
}

TEST(H1ClientTest, RetriesOnceWhenTheServerClosedAnIdleConnection) {
  PlainServer server(/*close_after_each=*/true);
  auto client = NewClient();
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  ASSERT_TRUE(client->SendSync({"GET", url, {}, "", 5s}).ok());
  std::this_thread::sleep_for(50ms);  // the server has closed its side by now
  auto second = client->SendSync({"GET", url, {}, "", 5s});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(H1ClientTest, TimesOutAgainstASilentServer) {
  PlainServer server(false, /*never_answer=*/true);
  auto client = NewClient();
  auto start = std::chrono::steady_clock::now();
  auto res = client->SendSync(
      {"GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/", {}, "", 300ms});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(H1ClientTest, ReportsRefusedConnectionsAndBadUrls) {
  auto client = NewClient();
  auto refused = client->SendSync({"GET", "http://127.0.0.1:1/", {}, "", 2s});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  auto bad = client->SendSync({"GET", "ftp://example/", {}, "", 2s});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

class OkHandler : public RequestHandler {
 public:
  uint64_t MaxBodyBytes(const Request&) const override { return 1 << 20; }
  void Handle(std::unique_ptr<Request> req, Respond respond) override {
    respond(Response::Text(200, "tls " + req->method + " " + std::to_string(req->body.size())));
  }
};

TEST(H1ClientTest, SpeaksTlsAndVerifiesTheServer) {
  mdmgw::testing::TempDir dir;
  mdmgw::testing::TestCa ca(dir.path());
  auto cert = ca.IssueServer("server");
  OkHandler handler;
  ServerOptions options;
  options.port = 0;
  options.threads = 1;
  options.tls_cert_file = cert.cert_file;
  options.tls_key_file = cert.key_file;
  auto server = Server::Create(options, handler);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(server.value()->Start().ok());
  std::string url = "https://127.0.0.1:" + std::to_string(server.value()->port()) + "/x";

  auto trusted = NewClient(ca.ca_file());
  auto res = trusted->SendSync({"POST", url, {}, "abc", 5s});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "tls POST 3");
  res = trusted->SendSync({"POST", url, {}, "abcd", 5s});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(trusted->connections_opened(), 1u) << "TLS connection reused";

  auto untrusting = NewClient();
  auto refused = untrusting->SendSync({"GET", url, {}, "", 5s});
  ASSERT_FALSE(refused.ok()) << "an unknown CA must fail verification";
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  server.value()->Shutdown(1s);
}

// Forwards every request to |upstream| with |client| and answers with the upstream's body and
// whether the answer came back on the thread that took the request.
class ForwardingHandler : public RequestHandler {
 public:
  ForwardingHandler(H1Client** client, std::string upstream)
      : client_(client), upstream_(std::move(upstream)) {}
  uint64_t MaxBodyBytes(const Request&) const override { return 1 << 20; }
  void Handle(std::unique_ptr<Request>, Respond respond) override {
    auto handler_thread = std::this_thread::get_id();
    ClientRequest out{"GET", upstream_, {}, "", 5s};
    (*client_)->Send(out, [handler_thread, respond](Result<ClientResponse> r) {
      if (!r.ok()) return respond(Response::Text(502, r.status().ToString()));
      bool same = std::this_thread::get_id() == handler_thread;
      respond(Response::Text(200, r->body + (same ? " same-thread" : " other-thread")));
    });
  }

 private:
  H1Client** client_;
  std::string upstream_;
};

TEST(H1ClientTest, CallerLoopKeepsTheExchangeOnTheServerThread) {
  mdmgw::testing::TempDir dir;
  mdmgw::testing::TestCa ca(dir.path());
  auto cert = ca.IssueServer("server");
  // The upstream: another of our servers (TLS, answers "tls GET 0").
  OkHandler ok;
  ServerOptions up_options;
  up_options.port = 0;
  up_options.threads = 2;
  up_options.tls_cert_file = cert.cert_file;
  up_options.tls_key_file = cert.key_file;
  auto upstream = Server::Create(up_options, ok);
  ASSERT_TRUE(upstream.ok());
  ASSERT_TRUE(upstream.value()->Start().ok());
  std::string up_url = "https://127.0.0.1:" + std::to_string(upstream.value()->port()) + "/";
  H1ClientOptions loop_options;
  loop_options.use_caller_loop = true;
  loop_options.ca_file = ca.ca_file();
  auto loop_client = H1Client::Create(loop_options);
  ASSERT_TRUE(loop_client.ok());
  H1Client* forwarder = loop_client.value().get();
  ForwardingHandler handler(&forwarder, up_url);
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.tls_cert_file = cert.cert_file;
  options.tls_key_file = cert.key_file;
  auto server = Server::Create(options, handler);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(server.value()->Start().ok());
  std::string url = "https://127.0.0.1:" + std::to_string(server.value()->port()) + "/";

  // Separate client connections land on both server threads; each forward stays on its thread.
  std::vector<std::unique_ptr<H1Client>> devices;
  for (int d = 0; d < 4; ++d) devices.push_back(NewClient(ca.ca_file()));
  for (int round = 0; round < 3; ++round) {
    for (auto& device : devices) {
      auto res = device->SendSync({"GET", url, {}, "", 5s});
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(res->body, "tls GET 0 same-thread");
    }
  }
  // Pooled per loop: one upstream connection per server thread for sequential requests.
  uint64_t opened = loop_client.value()->connections_opened();
  EXPECT_GE(opened, 1u);
  EXPECT_LE(opened, 2u);

  // Called from a thread that runs no loop, the client's own threads do the work (and open their
  // own connection: loop connections are not shared with them).
  auto direct = loop_client.value()->SendSync({"GET", up_url, {}, "", 5s});
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(direct->body, "tls GET 0");
  EXPECT_EQ(loop_client.value()->connections_opened(), opened + 1);

  // The client goes first while its idle connections still sit in the server's loops; the loops
  // close them when they are torn down (AddressSanitizer checks this order is safe).
  loop_client.value().reset();
  server.value()->Shutdown(1s);
  upstream.value()->Shutdown(1s);
}

}  // namespace
}  // namespace mdmgw::net

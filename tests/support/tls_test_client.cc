#include "tests/support/tls_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace mdmgw::testing {

int ConnectTcp(uint16_t port) {
  // Writing to a connection the server refused must fail the write, not kill the test process.
  ::signal(SIGPIPE, SIG_IGN);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::unique_ptr<TlsTestConnection> TlsTestConnection::Open(uint16_t port, const std::string& alpn,
                                                           const IssuedFiles* client_identity,
                                                           std::string* error) {
  std::unique_ptr<TlsTestConnection> c(new TlsTestConnection());
  auto fail = [&](const std::string& why) -> std::unique_ptr<TlsTestConnection> {
    if (error) *error = why;
    return nullptr;
  };
  c->fd_ = ConnectTcp(port);
  if (c->fd_ < 0) return fail("connect failed");
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
  if (client_identity) {
    SSL_CTX_use_certificate_file(c->ctx_, client_identity->cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(c->ctx_, client_identity->key_file.c_str(), SSL_FILETYPE_PEM);
  }
  if (!alpn.empty()) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire += alpn;
    SSL_CTX_set_alpn_protos(c->ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  SSL_set_tlsext_host_name(c->ssl_, "localhost");
  timeval tv{5, 0};
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (SSL_connect(c->ssl_) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    return fail(std::string("TLS handshake failed: ") + buf);
  }
  return c;
}

TlsTestConnection::~TlsTestConnection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsTestConnection::WriteAll(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    int n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int TlsTestConnection::Read(std::string* out, std::chrono::milliseconds timeout) {
  if (SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return -1;
  }
  char buf[16384];
  int n = SSL_read(ssl_, buf, sizeof(buf));
  if (n > 0) {
    out->append(buf, static_cast<size_t>(n));
    return n;
  }
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_WANT_READ) return -1;  // only a non-application record arrived
  ERR_clear_error();
  return 0;
}

bool TlsTestConnection::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string sink;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int n = Read(&sink, std::max(left, std::chrono::milliseconds(1)));
    if (n == 0) return true;
  }
  return false;
}

std::string TlsTestConnection::alpn() const {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

H1Response H1RoundTrip(TlsTestConnection& conn, const std::string& raw,
                       std::chrono::milliseconds timeout) {
  H1Response res;
  if (!conn.WriteAll(raw)) return res;
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t header_end = std::string::npos;
  size_t need = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = data.substr(0, header_end);
        res.status = std::atoi(head.substr(9, 3).c_str());
        size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
          size_t next = head.find("\r\n", pos + 2);
          std::string line =
              head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
          size_t colon = line.find(':');
          if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (auto& ch : name)
              ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            res.headers[name] = value;
          }
          pos = next;
        }
        need = res.headers.count("content-length") ? std::stoul(res.headers["content-length"]) : 0;
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + need) {
      res.body = data.substr(header_end + 4, need);
      return res;
    }
    int n = conn.Read(&data, 200ms);
    if (n == 0) break;
  }
  if (header_end == std::string::npos || data.size() < header_end + 4 + need) res.status = 0;
  return res;
}

H1Response H1Get(uint16_t port, const std::string& path, const std::string& extra_headers) {
  auto conn = TlsTestConnection::Open(port, "http/1.1");
  if (!conn) return {};
  return H1RoundTrip(*conn,
                     "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n");
}

// ---- HTTP/2 ----

int H2TestClient::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                           size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                           void* user_data) {
  auto* self = static_cast<H2TestClient*>(user_data);
  std::string n(reinterpret_cast<const char*>(name), namelen);
  std::string v(reinterpret_cast<const char*>(value), valuelen);
  auto& s = self->streams_[frame->hd.stream_id];
  if (n == ":status") {
    s.status = std::atoi(v.c_str());
  } else {
    s.headers[n] = v;
  }
  return 0;
}

int H2TestClient::OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
  static_cast<H2TestClient*>(user_data)->streams_[stream_id].body.append(
      reinterpret_cast<const char*>(data), len);
  return 0;
}

int H2TestClient::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<H2TestClient*>(user_data);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    self->goaway_received_ = true;
    self->goaway_last_stream_id_ = frame->goaway.last_stream_id;
  } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
    auto& s = self->streams_[frame->hd.stream_id];
    s.reset = true;
    s.rst_error = frame->rst_stream.error_code;
  }
  return 0;
}

int H2TestClient::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                void* user_data) {
  auto* self = static_cast<H2TestClient*>(user_data);
  auto& s = self->streams_[stream_id];
  if (!s.closed) {
    s.closed = true;
    if (error_code != 0 && !s.reset) {
      s.reset = true;
      s.rst_error = error_code;
    }
    if (self->open_ > 0) self->open_--;
  }
  return 0;
}

ssize_t H2TestClient::ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                               uint32_t* flags, nghttp2_data_source*, void* user_data) {
  auto* self = static_cast<H2TestClient*>(user_data);
  auto& [body, off] = self->bodies_[stream_id];
  size_t n = std::min(length, body.size() - off);
  std::memcpy(buf, body.data() + off, n);
  off += n;
  if (off == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

H2TestClient::H2TestClient(std::unique_ptr<TlsTestConnection> conn,
                           uint32_t assumed_peer_max_streams)
    : conn_(std::move(conn)) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_peer_max_concurrent_streams(opt, assumed_peer_max_streams);
  nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
}

H2TestClient::~H2TestClient() { nghttp2_session_del(session_); }

int32_t H2TestClient::SubmitWith(const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const nghttp2_data_provider* provider) {
  std::vector<std::pair<std::string, std::string>> all = {
      {":method", method}, {":scheme", "https"}, {":authority", "localhost"}, {":path", path}};
  for (const auto& h : headers) all.push_back(h);
  std::vector<nghttp2_nv> nva;
  for (auto& [n, v] : all) {
    nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                   n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), provider, nullptr);
  if (id > 0) {
    streams_[id];
    open_++;
  }
  return id;
}

int32_t H2TestClient::Submit(const std::string& method, const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body) {
  nghttp2_data_provider provider{};
  provider.read_callback = ReadBody;
  int32_t id = SubmitWith(method, path, headers, body.empty() ? nullptr : &provider);
  if (id > 0 && !body.empty()) bodies_[id] = {body, 0};
  return id;
}

int32_t H2TestClient::SubmitStalled(
    const std::string& method, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  nghttp2_data_provider provider{};
  provider.read_callback = DeferBody;
  return SubmitWith(method, path, headers, &provider);
}

bool H2TestClient::Pump(std::chrono::milliseconds wait) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) break;
    if (!conn_->WriteAll(
            std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(n)))) {
      connection_closed_ = true;
      return false;
    }
  }
  std::string in;
  int r = conn_->Read(&in, wait);
  if (r == 0) {
    connection_closed_ = true;
    return false;
  }
  if (r > 0) {
    nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(in.data()), in.size());
  }
  return true;
}

bool H2TestClient::RunUntilDone(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (open_ > 0 && !connection_closed_) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Pump(50ms);
  }
  // Flush what is pending (WINDOW_UPDATE, SETTINGS ACK) so the server sees a well-behaved peer.
  if (!connection_closed_) {
    const uint8_t* data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
      conn_->WriteAll(std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
    }
  }
  return open_ == 0 || connection_closed_;
}

bool H2TestClient::RunUntilClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!connection_closed_) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Pump(50ms);
  }
  return true;
}

H2TestClient::Stream H2Get(uint16_t port, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  auto conn = TlsTestConnection::Open(port, "h2");
  if (!conn || conn->alpn() != "h2") return {};
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit("GET", path, headers);
  client.RunUntilDone(5s);
  return client.stream(id);
}

H2TestClient::Stream H2Request(uint16_t port, const std::string& method, const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, std::chrono::milliseconds timeout) {
  return H2RequestAs(port, nullptr, method, path, headers, body, timeout);
}

H2TestClient::Stream H2RequestAs(uint16_t port, const IssuedFiles* client_identity,
                                 const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body, std::chrono::milliseconds timeout) {
  auto conn = TlsTestConnection::Open(port, "h2", client_identity);
  if (!conn || conn->alpn() != "h2") return {};
  H2TestClient client(std::move(conn));
  int32_t id = client.Submit(method, path, headers, body);
  client.RunUntilDone(timeout);
  return client.stream(id);
}

}  // namespace mdmgw::testing

// Blocking TLS test clients over real loopback sockets: a raw TLS connection, an HTTP/1.1
// round-trip helper, and an HTTP/2 client built on nghttp2's client session. Tests only.
#pragma once

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixtures/pki/test_pki.h"

namespace mdmgw::testing {

using namespace std::chrono_literals;

class TlsTestConnection {
 public:
  // TCP connect to 127.0.0.1:|port|, then TLS with ALPN |alpn| ("h2", "http/1.1", or "" for none).
  // The server certificate is not verified (tests use throwaway certificates). Null on failure,
  // with the reason in |error|.
  static std::unique_ptr<TlsTestConnection> Open(uint16_t port, const std::string& alpn,
                                                 const IssuedFiles* client_identity = nullptr,
                                                 std::string* error = nullptr);
  ~TlsTestConnection();

  bool WriteAll(const std::string& data);
  // >0: bytes appended to |out|; 0: the peer closed (close_notify, EOF or reset); -1: timeout.
  int Read(std::string* out, std::chrono::milliseconds timeout);
  // Reads (discarding) until the peer closes; false when |timeout| passes first.
  bool WaitClosed(std::chrono::milliseconds timeout);
  std::string alpn() const;
  int fd() const { return fd_; }

 private:
  TlsTestConnection() = default;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// A plain TCP connection to 127.0.0.1:|port| (for sending garbage instead of a ClientHello); -1 on
// failure.
int ConnectTcp(uint16_t port);

struct H1Response {
  int status = 0;                              // 0: no complete response
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// Writes |raw| and reads one response (Content-Length framed).
H1Response H1RoundTrip(TlsTestConnection& conn, const std::string& raw,
                       std::chrono::milliseconds timeout = 5s);
// One GET over a new HTTP/1.1 connection.
H1Response H1Get(uint16_t port, const std::string& path, const std::string& extra_headers = "");

class H2TestClient {
 public:
  struct Stream {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    uint32_t rst_error = 0;  // error code of a RST_STREAM from the server
    bool reset = false;
    bool closed = false;
  };

  // |assumed_peer_max_streams|: how many streams nghttp2 lets us open before the server's SETTINGS
  // arrive (set it high to deliberately exceed the server's limit).
  explicit H2TestClient(std::unique_ptr<TlsTestConnection> conn,
                        uint32_t assumed_peer_max_streams = 100);
  ~H2TestClient();

  int32_t Submit(const std::string& method, const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 const std::string& body = "");
  // HEADERS without END_STREAM, then no DATA ever (a stalled upload).
  int32_t SubmitStalled(const std::string& method, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Pumps I/O until every submitted stream has closed (or the connection ended). False on timeout.
  bool RunUntilDone(std::chrono::milliseconds timeout);
  // Pumps I/O until the server closes the connection. False on timeout.
  bool RunUntilClosed(std::chrono::milliseconds timeout);

  const Stream& stream(int32_t id) { return streams_[id]; }
  const std::map<int32_t, Stream>& streams() const { return streams_; }
  bool goaway_received() const { return goaway_received_; }
  int32_t goaway_last_stream_id() const { return goaway_last_stream_id_; }
  bool connection_closed() const { return connection_closed_; }

 private:
  int32_t SubmitWith(const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const nghttp2_data_provider* provider);
  bool Pump(std::chrono::milliseconds wait);
  static int OnHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t,
                      const uint8_t*, size_t, uint8_t, void*);
  static int OnData(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame*, void*);
  static int OnStreamClose(nghttp2_session*, int32_t, uint32_t, void*);
  static ssize_t DeferBody(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*,
                           nghttp2_data_source*, void*) {
    return NGHTTP2_ERR_DEFERRED;
  }
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*,
                          nghttp2_data_source*, void*);

  std::unique_ptr<TlsTestConnection> conn_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::map<int32_t, std::pair<std::string, size_t>> bodies_;  // request bodies being sent
  size_t open_ = 0;
  bool goaway_received_ = false;
  int32_t goaway_last_stream_id_ = -1;
  bool connection_closed_ = false;
};

// GET |path| over a new HTTP/2 connection; status 0 when it failed.
H2TestClient::Stream H2Get(uint16_t port, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& headers = {});

// One request with a body over a new HTTP/2 connection; status 0 when it failed.
H2TestClient::Stream H2Request(uint16_t port, const std::string& method, const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, std::chrono::milliseconds timeout = 10s);

// The same, presenting |client_identity| (may be null) in the TLS handshake.
H2TestClient::Stream H2RequestAs(uint16_t port, const IssuedFiles* client_identity,
                                 const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body, std::chrono::milliseconds timeout = 10s);

}  // namespace mdmgw::testing

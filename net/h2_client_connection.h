// H2ClientConnection: one outbound HTTP/2 connection over TLS (Asio), driving an H2ClientCodec.
// Connects (resolve, TCP, TLS with SNI + hostname check + ALPN h2, client certificate from the
// TLS context), batches writes, pings when idle, and reports every stream's end exactly once to
// its Owner. Owned by a pool (apns/apns_client) through shared_ptr; every call and callback runs
// on the io_context it was created with.
//
// Thread-safety: none; use from the owning io_context's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/h2_client_codec.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace mdmgw::net {

struct H2ClientConnectionOptions {
  std::string host;
  uint16_t port = 443;
  std::chrono::milliseconds connect_timeout{20000};
  std::chrono::milliseconds ping_after_idle{15000};  // apns2's read-idle ping
  std::chrono::milliseconds ping_timeout{10000};
  // Streams open and no byte from the server for this long: the connection is declared dead.
  std::chrono::milliseconds response_timeout{30000};
};

class H2ClientConnection : public std::enable_shared_from_this<H2ClientConnection> {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void OnConnected(H2ClientConnection& conn) = 0;
    virtual void OnResponse(H2ClientConnection& conn, uint64_t tag, H2ClientResponse response) = 0;
    // |unprocessed|: the server did not act on it; safe to resend.
    virtual void OnStreamFailed(H2ClientConnection& conn, uint64_t tag, const Status& error,
                                bool unprocessed) = 0;
    virtual void OnGoaway(H2ClientConnection& conn, int32_t last_stream_id, uint32_t error_code,
                          const std::string& debug_data) = 0;
    // After a batch of server frames was handled: streams may have freed up.
    virtual void OnCapacity(H2ClientConnection& conn) = 0;
    // The connection is gone; every stream it had was reported first. |handshake_failed| tells a
    // TLS refusal (certificate problems) from a network failure.
    virtual void OnClosed(H2ClientConnection& conn, const Status& why, bool handshake_failed) = 0;
  };

  static std::shared_ptr<H2ClientConnection> Create(boost::asio::io_context& ioc,
                                                    std::shared_ptr<boost::asio::ssl::context> tls,
                                                    const H2ClientConnectionOptions& options,
                                                    Owner& owner);
  virtual ~H2ClientConnection() = default;

  virtual void Connect() = 0;
  // Queues a request; bytes go out at the next Flush(). False when the connection cannot take it
  // (not connected, GOAWAY received, closing).
  // |request.authority| is filled in by the connection.
  virtual bool Submit(H2ClientRequest request, uint64_t tag) = 0;
  virtual void Flush() = 0;
  // Stops taking requests and closes once the open streams have finished.
  virtual void CloseWhenIdle() = 0;
  // Closes now; open streams are reported failed (processed state unknown).
  virtual void Close(const Status& why) = 0;

  virtual bool connected() const = 0;
  virtual bool accepting() const = 0;  // connected, no GOAWAY, not closing
  virtual size_t open_streams() const = 0;
  virtual uint32_t peer_max_concurrent_streams() const = 0;
  virtual uint64_t responses() const = 0;  // responses received so far
  // The TLS context it was created with (the pool retires connections of an older identity).
  virtual const boost::asio::ssl::context* tls_context() const = 0;
};

}  // namespace mdmgw::net

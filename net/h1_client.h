// H1Client: outbound HTTP/1.1 over TLS or plain TCP with keep-alive connection pooling and
// deadlines; for the core MDM (check-in forwarding) and Apple's DEP API.
//
// A connection is reused per scheme+host+port. A request that fails on a reused connection before
// any response byte arrived (the server closed it while idle) is retried once on a new connection;
// its body is buffered, so the retry sends the same bytes.
// Thread-safety: Send/SendSync from any thread. Owns its I/O threads; with use_caller_loop an
// exchange started on a server I/O thread runs there instead (see H1ClientOptions).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/request.h"

namespace mdmgw::net {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // Default: whole exchange, connect included.
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

struct H1ClientOptions {
  std::string ca_file;      // extra CA bundle to trust (added to the system roots)
  bool verify_peer = true;  // Default: verify the server certificate and host name.
  // A TLS client identity (PEM files) presented to every server. Default: none.
  std::string client_cert_file;
  std::string client_key_file;
  size_t max_idle_per_host = 32;
  uint64_t max_response_bytes = 64ull << 20;  // Default: 64 MiB.
  int threads = 1;
  // When Send is called on a net::Server I/O thread, run the exchange on that thread's loop (its
  // callback too) and pool its connections per loop, instead of handing it to the client's own
  // threads. For the check-in forward, where the thread hops cost more than the exchange.
  // Default: off (the client's own threads do all I/O).
  bool use_caller_loop = false;
  std::string user_agent = "mdm-gateway/0.1";
};

class H1Client {
 public:
  using Callback = std::function<void(Result<ClientResponse>)>;

  static Result<std::unique_ptr<H1Client>> Create(const H1ClientOptions& options);
  ~H1Client();

  // Sends |request|; |done| runs once, on a client I/O thread (or the caller's loop, see
  // use_caller_loop). Errors: InvalidArgument (bad URL),
  // Unavailable (resolve/connect/TLS/reset), Timeout (deadline), TooLarge (response over the
  // limit).
  void Send(ClientRequest request, Callback done);
  // Blocking form. REQUIRES: not called from a client I/O thread.
  Result<ClientResponse> SendSync(ClientRequest request);

  // Connections opened since creation (tests check reuse with it).
  uint64_t connections_opened() const;

  class Impl;  // opaque; public only so the .cc's exchange objects can name it

 private:
  explicit H1Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdmgw::net

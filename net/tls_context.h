// TLS server context for the gateway's listener: TLS 1.2+, ALPN h2 then http/1.1, optional client
// certificates recorded (and verified against the devices CA bundle when one is configured).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/secret.h"
#include "net/asio.h"
#include "net/request.h"

namespace mdmgw::net {

struct TlsServerOptions {
  std::string cert_file;       // PEM chain, leaf first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // devices CA bundle; empty = certificates are captured, not verified
  bool require_client_certificate = false;
};

Result<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsServerOptions& options);

// TLS client context for outbound HTTP/2 (APNs): TLS 1.2+, ALPN h2, the server verified against
// the system store plus |ca_file|, and an optional client identity given as PEM in memory (the
// push certificate never touches the disk unsealed).
struct TlsClientOptions {
  std::string ca_file;          // extra trust anchors (simulators); empty = system store only
  std::string client_cert_pem;  // leaf first, then any chain; empty = no client certificate
  const Secret<std::string>* client_key_pem = nullptr;
  bool verify_peer = true;
};
Result<std::shared_ptr<asio::ssl::context>> MakeClientH2TlsContext(const TlsClientOptions& options);

// The ALPN protocol the handshake settled on ("h2", "http/1.1", or "" when none).
std::string SelectedAlpn(const SSL* ssl);

// The peer's certificate after the handshake, if it sent one.
std::shared_ptr<const PeerCertificate> CapturePeerCertificate(const SSL* ssl, bool ca_configured);

}  // namespace mdmgw::net

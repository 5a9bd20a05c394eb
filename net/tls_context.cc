#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/crypto/openssl_ptr.h"

namespace mdmgw::net {
namespace {

// Server preference: h2 when the client offers it, else http/1.1. No ALPN at all is HTTP/1.1.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kPreferred[] = "\x02h2\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kPreferred, sizeof(kPreferred) - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Accept every client certificate at the handshake; whether it verified is recorded with the
// request, so identity checks can answer with a clear HTTP error instead of a TLS alert.
int AcceptAndRecord(int, X509_STORE_CTX*) { return 1; }

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> MakeClientH2TlsContext(
    const TlsClientOptions& options) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_default_verify_paths(native);
  if (!options.ca_file.empty() &&
      SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
    return Status::InvalidArgument("CA file " + options.ca_file + ": " + crypto::OpenSslErrors());
  }
  SSL_CTX_set_verify(native, options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  static const unsigned char kAlpn[] = "\x02h2";
  SSL_CTX_set_alpn_protos(native, kAlpn, sizeof(kAlpn) - 1);
  if (!options.client_cert_pem.empty()) {
    crypto::BioPtr bio = crypto::MemBio(options.client_cert_pem);
    crypto::X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!leaf || SSL_CTX_use_certificate(native, leaf.get()) != 1) {
      return Status::InvalidArgument("client certificate: " + crypto::OpenSslErrors());
    }
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      SSL_CTX_add_extra_chain_cert(native, extra);  // takes ownership
    }
    ERR_clear_error();
    if (options.client_key_pem == nullptr) {
      return Status::InvalidArgument("client certificate without a key");
    }
    const std::string& key_pem = options.client_key_pem->Expose();
    crypto::BioPtr key_bio = crypto::MemBio(key_pem);
    crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!key || SSL_CTX_use_PrivateKey(native, key.get()) != 1 ||
        SSL_CTX_check_private_key(native) != 1) {
      return Status::InvalidArgument("client key: " + crypto::OpenSslErrors());
    }
  }
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsServerOptions& options) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2 suites: forward secrecy and AEAD only (Mozilla's "intermediate" list; Apple's App
  // Transport Security asks devices for the same). TLS 1.3's suites are all of that kind already.
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Status::Internal("TLS 1.2 cipher list: " + crypto::OpenSslErrors());
  }
  // SSL_MODE_RELEASE_BUFFERS is deliberately off: in request/response ping-pong it frees and
  // re-allocates both 16 KiB record buffers on every record, a measurable share of the per-request
  // CPU in bench/http-core (c=64 x m=1). The price is ~34 KiB per open connection.
  if (SSL_CTX_use_certificate_chain_file(native, options.cert_file.c_str()) != 1) {
    return Status::InvalidArgument("TLS certificate " + options.cert_file + ": " +
                                   crypto::OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(native, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument("TLS key " + options.key_file + ": " + crypto::OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument("TLS key does not match certificate " + options.cert_file);
  }
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, options.client_ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("devices CA " + options.client_ca_file + ": " +
                                     crypto::OpenSslErrors());
    }
  }
  SSL_CTX_set_verify(
      native,
      SSL_VERIFY_PEER | (options.require_client_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
      AcceptAndRecord);
  static const unsigned char kSessionContext[] = "mdm-gateway";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return ctx;
}

std::string SelectedAlpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::shared_ptr<const PeerCertificate> CapturePeerCertificate(const SSL* ssl, bool ca_configured) {
  crypto::X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return nullptr;
  PeerCertificate out;
  int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return nullptr;
  out.der.resize(static_cast<size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  i2d_X509(cert.get(), &p);
  long result = SSL_get_verify_result(ssl);
  out.verified = ca_configured && result == X509_V_OK;
  if (!out.verified) {
    out.verify_error =
        ca_configured ? X509_verify_cert_error_string(result) : "no devices CA configured";
  }
  return std::make_shared<const PeerCertificate>(std::move(out));
}

}  // namespace mdmgw::net

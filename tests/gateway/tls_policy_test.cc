// The device-facing TLS policy of the assembled gateway: TLS 1.2 and 1.3 only, and for TLS 1.2
// only forward-secret AEAD suites. Each case is a real handshake from an OpenSSL client that
// offers exactly one protocol version (and, for 1.2, one family of suites).
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "fixtures/pki/test_pki.h"
#include "gateway/gateway_app.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

struct Offer {
  int version;            // TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION
  const char* ciphers12;  // TLS <= 1.2 cipher list; nullptr = OpenSSL's default
};

// "" when the handshake succeeded, else OpenSSL's reason.
std::string Handshake(uint16_t port, const Offer& offer, std::string* negotiated = nullptr) {
  int fd = mdmgw::testing::ConnectTcp(port);
  if (fd < 0) return "connect failed";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  // Security level 0 lets this client offer what the server must refuse (TLS 1.0/1.1, SHA-1).
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, offer.version);
  SSL_CTX_set_max_proto_version(ctx, offer.version);
  if (offer.ciphers12 != nullptr) SSL_CTX_set_cipher_list(ctx, offer.ciphers12);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  std::string error;
  if (SSL_connect(ssl) != 1) {
    unsigned long e = ERR_get_error();
    error = e != 0 ? ERR_reason_error_string(e) : "handshake failed";
    if (error.empty()) error = "handshake failed";
  } else if (negotiated != nullptr) {
    *negotiated = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return error;
}

class TlsPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
  }
  mdmgw::testing::TempDir dir_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
};

TEST_F(TlsPolicyTest, OnlyTls12And13WithForwardSecretAeadSuites) {
  uint16_t port = app_->port();
  std::string got;
  EXPECT_EQ(Handshake(port, {TLS1_3_VERSION, nullptr}, &got), "");
  EXPECT_EQ(got.rfind("TLSv1.3 ", 0), 0u) << got;
  EXPECT_EQ(Handshake(port, {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"}, &got), "");
  EXPECT_EQ(got, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(Handshake(port, {TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305"}, &got), "");
  EXPECT_EQ(Handshake(port, {TLS1_2_VERSION, nullptr}, &got), "")
      << "a default TLS 1.2 client finds a suite";

  EXPECT_NE(Handshake(port, {TLS1_1_VERSION, nullptr}), "") << "TLS 1.1 refused";
  EXPECT_NE(Handshake(port, {TLS1_VERSION, nullptr}), "") << "TLS 1.0 refused";
  // CBC with SHA-1 or SHA-2 MACs, even with ECDHE: not AEAD.
  EXPECT_NE(Handshake(port, {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"}), "");
  EXPECT_NE(
      Handshake(port, {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384"}), "");
  // No forward secrecy (static RSA key exchange), and plain nonsense.
  EXPECT_NE(Handshake(port, {TLS1_2_VERSION, "AES128-GCM-SHA256:AES256-GCM-SHA384"}), "");
  EXPECT_NE(Handshake(port, {TLS1_2_VERSION, "ECDHE-ECDSA-NULL-SHA:NULL-SHA256"}), "");

  // The refusals cost the server nothing: it still answers.
  EXPECT_EQ(mdmgw::testing::H2Get(port, "/healthz").status, 200);
}

}  // namespace
}  // namespace mdmgw::gateway

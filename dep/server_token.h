// The ADE server-token exchange (PROTOCOLS.md §2 "Server token file"): the gateway makes an
// RSA-2048 key and a self-signed certificate; the admin uploads the certificate to Apple Business
// Manager ("Add MDM Server") and downloads a `.p7m` file: S/MIME enveloped data, encrypted to that
// certificate, whose plaintext is a MIME part holding the OAuth1 credentials as JSON between
// -----BEGIN MESSAGE----- / -----END MESSAGE----- markers.
//
// Refusals carry these reasons: not_smime, wrong_key (encrypted for another certificate),
// bad_token_json, token_expired.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"
#include "dep/oauth1.h"

namespace mdmgw::dep {

struct TokenExchangeIdentity {
  std::string cert_pem;
  Secret<std::string> key_pem;
};

// RSA-2048 key, self-signed certificate (keyEncipherment | digitalSignature), valid |days|.
Result<TokenExchangeIdentity> GenerateTokenExchangeIdentity(const std::string& common_name,
                                                            int days = 3650);

struct ServerToken {
  std::string consumer_key;  // CK_...
  Secret<std::string> consumer_secret;
  Secret<std::string> access_token;
  Secret<std::string> access_secret;
  int64_t access_token_expiry = 0;  // Unix seconds
};

// The OAuth1 credentials a token carries (what DepClient signs /session with).
OAuth1Credentials CredentialsOf(const ServerToken& token);

// Decrypts and parses a `.p7m` server token (S/MIME text with CRLF or LF line ends, or bare DER).
Result<ServerToken> DecryptServerToken(std::string_view p7m, std::string_view cert_pem,
                                       const Secret<std::string>& key_pem, int64_t now);

// Parses the decrypted MIME part (exposed for tests of the unwrap rules).
Result<ServerToken> ParseServerTokenPlaintext(std::string_view plaintext, int64_t now);

// "2024-09-16T17:21:34Z" (RFC 3339, UTC or with an offset) to Unix seconds.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace mdmgw::dep

// OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as Apple's Device Assignment API requires on
// GET /session (PROTOCOLS.md §2 "Authentication"). Written here on OpenSSL's HMAC: it is a page of
// code, and no Debian package offers an OAuth1 signer for C++.
//
// Thread-safety: pure functions (SignOAuth1 draws a nonce from the CSPRNG).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/secret.h"

namespace mdmgw::dep {

// RFC 5849 §3.6 percent-encoding: everything but ALPHA, DIGIT, '-', '.', '_', '~'.
std::string OAuthPercentEncode(std::string_view in);

struct OAuth1Credentials {
  std::string consumer_key;  // CK_...
  Secret<std::string> consumer_secret;
  std::string token;  // AT_...
  Secret<std::string> token_secret;
};

// The signature base string (§3.4.1) of |method| |url| (scheme://host/path, no query) and every
// parameter in |params| (oauth_* and request parameters; oauth_signature and realm excluded).
std::string OAuthSignatureBase(std::string_view method, std::string_view url,
                               const std::multimap<std::string, std::string>& params);

// base64(HMAC-SHA1(pct(consumer_secret) "&" pct(token_secret), base string)).
std::string OAuthHmacSha1(std::string_view base, std::string_view consumer_secret,
                          std::string_view token_secret);

// The Authorization header value: OAuth realm="<realm>", oauth_consumer_key=..., oauth_token=...,
// oauth_signature_method="HMAC-SHA1", oauth_signature=..., oauth_timestamp=..., oauth_nonce=...,
// oauth_version="1.0". |nonce| empty = 16 random bytes, hex.
std::string OAuth1AuthorizationHeader(std::string_view method, std::string_view url,
                                      const OAuth1Credentials& credentials, int64_t timestamp,
                                      std::string nonce = "", std::string_view realm = "ADM");

}  // namespace mdmgw::dep

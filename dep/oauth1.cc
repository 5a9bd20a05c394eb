#include "dep/oauth1.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/encoding.h"
#include "common/random.h"

namespace mdmgw::dep {

std::string OAuthPercentEncode(std::string_view in) { return PercentEncode(in); }

std::string OAuthSignatureBase(std::string_view method, std::string_view url,
                               const std::multimap<std::string, std::string>& params) {
  // §3.4.1.3.2: encode names and values, then sort by encoded name, then encoded value.
  std::multimap<std::string, std::string> encoded;
  for (const auto& [k, v] : params) {
    if (k == "oauth_signature" || k == "realm") continue;
    encoded.emplace(OAuthPercentEncode(k), OAuthPercentEncode(v));
  }
  std::string normalized;
  for (auto it = encoded.begin(); it != encoded.end();) {
    auto range = encoded.equal_range(it->first);
    std::multimap<std::string, std::string> by_value;
    for (auto r = range.first; r != range.second; ++r) by_value.emplace(r->second, r->first);
    for (const auto& [v, k] : by_value) {
      if (!normalized.empty()) normalized += '&';
      normalized += k + "=" + v;
    }
    it = range.second;
  }
  std::string base(method);
  base += '&';
  base += OAuthPercentEncode(url);
  base += '&';
  base += OAuthPercentEncode(normalized);
  return base;
}

std::string OAuthHmacSha1(std::string_view base, std::string_view consumer_secret,
                          std::string_view token_secret) {
  std::string key = OAuthPercentEncode(consumer_secret) + "&" + OAuthPercentEncode(token_secret);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &mac_len);
  OPENSSL_cleanse(key.data(), key.size());
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string OAuth1AuthorizationHeader(std::string_view method, std::string_view url,
                                      const OAuth1Credentials& c, int64_t timestamp,
                                      std::string nonce, std::string_view realm) {
  if (nonce.empty()) nonce = HexEncode(RandomBytes(16));
  std::multimap<std::string, std::string> params = {
      {"oauth_consumer_key", c.consumer_key},
      {"oauth_token", c.token},
      {"oauth_signature_method", "HMAC-SHA1"},
      {"oauth_timestamp", std::to_string(timestamp)},
      {"oauth_nonce", nonce},
      {"oauth_version", "1.0"},
  };
  std::string signature = OAuthHmacSha1(OAuthSignatureBase(method, url, params),
                                        c.consumer_secret.Expose(), c.token_secret.Expose());
  std::string header = "OAuth realm=\"" + std::string(realm) + "\"";
  auto field = [&header](std::string_view k, std::string_view v) {
    header += ", ";
    header += k;
    header += "=\"";
    header += OAuthPercentEncode(v);
    header += '"';
  };
  field("oauth_consumer_key", c.consumer_key);
  field("oauth_token", c.token);
  field("oauth_signature_method", "HMAC-SHA1");
  field("oauth_signature", signature);
  field("oauth_timestamp", std::to_string(timestamp));
  field("oauth_nonce", nonce);
  field("oauth_version", "1.0");
  return header;
}

}  // namespace mdmgw::dep

#include "tests/support/dep_token.h"

#include <openssl/cms.h>
#include <openssl/pem.h>

namespace mdmgw::testing {

std::string DepTokenPlaintext(const std::string& consumer_key, const std::string& expiry, bool crlf,
                              bool markers_on_json_line) {
  std::string nl = crlf ? "\r\n" : "\n";
  std::string json =
      "{\"consumer_key\":\"" + consumer_key +
      "\",\"consumer_secret\":\"CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6\","
      "\"access_token\":\"AT_O8473841760O4d4ed4c2e1e0fd7e7a1a8d1e8ed5d0e6c5d0c1ccO1571954\","
      "\"access_secret\":\"AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5\","
      "\"access_token_expiry\":\"" +
      expiry + "\"}";
  std::string body = markers_on_json_line
                         ? "-----BEGIN MESSAGE-----" + json + "-----END MESSAGE-----"
                         : "-----BEGIN MESSAGE-----" + nl + json + nl + "-----END MESSAGE-----";
  return "Content-Type: text/plain;charset=UTF-8" + nl + "Content-Transfer-Encoding: 7bit" + nl +
         nl + body + nl;
}

std::string MakeDepP7m(const std::string& cert_pem, const std::string& plaintext, bool crlf) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  STACK_OF(X509)* certs = sk_X509_new_null();
  sk_X509_push(certs, cert);
  BIO* in = BIO_new_mem_buf(plaintext.data(), static_cast<int>(plaintext.size()));
  CMS_ContentInfo* cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY);
  BIO* out = BIO_new(BIO_s_mem());
  SMIME_write_CMS(out, cms, nullptr, CMS_BINARY);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<size_t>(len));
  CMS_ContentInfo_free(cms);
  BIO_free(out);
  BIO_free(in);
  sk_X509_pop_free(certs, X509_free);
  BIO_free(cb);
  std::string normalized;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n' && crlf) normalized += '\r';
    normalized += c;
  }
  return normalized;
}

}  // namespace mdmgw::testing

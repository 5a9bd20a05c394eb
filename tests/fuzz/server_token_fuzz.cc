// The `.p7m` server token an admin uploads: S/MIME or DER enveloped data unwrapped with the
// server's exchange key, and the decrypted MIME part with the OAuth1 JSON.
#include <cstdint>
#include <string_view>

#include "dep/server_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto identity = mdmgw::dep::GenerateTokenExchangeIdentity("fuzz", 30).value();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kNow = 1767225600;  // 2026-01-01
  (void)mdmgw::dep::DecryptServerToken(bytes, identity.cert_pem, identity.key_pem, kNow);
  (void)mdmgw::dep::ParseServerTokenPlaintext(bytes, kNow);
  (void)mdmgw::dep::ParseRfc3339(bytes);
  return 0;
}

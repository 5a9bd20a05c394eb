// What an admin uploads as the APNs push certificate: PEM (certificate and key, one body or
// multipart parts) and PKCS#12.
#include <cstdint>
#include <string_view>

#include "apns/push_certificate.h"
#include "gateway/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kNow = 1767225600;
  (void)mdmgw::apns::ParsePemPushCertificate(bytes, "", "", kNow);
  (void)mdmgw::apns::ParsePemPushCertificate(bytes, bytes, "secret", kNow);
  (void)mdmgw::apns::ParsePkcs12PushCertificate(bytes, "", kNow);
  (void)mdmgw::apns::PushTopicFromPem(bytes);
  (void)mdmgw::gateway::ParseMultipart(bytes, "XyZboundary");
  return 0;
}

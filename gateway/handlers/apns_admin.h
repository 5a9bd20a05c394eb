// Admin routes for the APNs push certificate:
//   PUT    /api/v1/apns/certificate (?force=1, ?apple_id=)  upload (PEM pair or PKCS#12)
//   GET    /api/v1/apns/certificate                          topic, subject, serial, dates,
//   days_left DELETE /api/v1/apns/certificate POST   /api/v1/apns/csr {"common_name","email"} key
//   (kept sealed) + CSR PEM PUT    /v1/pushcert NanoMDM-compatible upload
//
// Upload bodies: JSON {"certificate","key","pkcs12" (base64),"password","apple_id"};
// multipart/form-data with parts of those names (also "cert", "private_key", "p12");
// application/x-pkcs12 (password in the X-Pkcs12-Password header); or PEM text.
#pragma once

#include "apns/push_cert_service.h"
#include "gateway/router.h"

namespace mdmgw::gateway {

void AddApnsAdminRoutes(Router& router, apns::PushCertService& certs);

// Exposed for tests: turns an upload request into what the service takes.
Result<apns::PushCertUpload> ParsePushCertUpload(const net::Request& request);

}  // namespace mdmgw::gateway

#include "gateway/handlers/apns_admin.h"

#include <ctime>

#include "common/encoding.h"
#include "gateway/http_errors.h"
#include "gateway/multipart.h"

namespace mdmgw::gateway {
namespace {

constexpr uint64_t kUploadLimit = 256 << 10;  // a chain of a few certificates fits many times

bool Truthy(const std::optional<std::string>& v) {
  return v && (*v == "1" || *v == "true" || *v == "yes");
}

nlohmann::json InfoJson(const apns::PushCertInfo& info) {
  return {{"topic", info.topic},
          {"subject", info.subject},
          {"serial", info.serial},
          {"not_before", Rfc3339(info.not_before)},
          {"not_after", Rfc3339(info.not_after)},
          {"days_left", info.days_left},
          {"apple_id", info.apple_id},
          {"updated_at", Rfc3339(info.updated_at)}};
}

Status BadBody(std::string msg) { return Status::InvalidArgument(std::move(msg), "bad_request"); }

}  // namespace

Result<apns::PushCertUpload> ParsePushCertUpload(const net::Request& request) {
  apns::PushCertUpload upload;
  upload.force = Truthy(request.QueryParam("force"));
  upload.apple_id = request.QueryParam("apple_id").value_or("");
  std::string content_type(request.headers.Get("content-type").value_or(""));
  std::string lower = content_type;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  if (request.body.empty()) return BadBody("empty body: send the certificate and its key");
  if (lower.rfind("application/json", 0) == 0) {
    nlohmann::json doc = nlohmann::json::parse(request.body, nullptr, false);
    if (!doc.is_object()) return BadBody("the body is not a JSON object");
    auto text = [&doc](const char* key) -> Result<std::string> {
      if (!doc.contains(key) || doc[key].is_null()) return std::string();
      if (!doc[key].is_string()) return BadBody(std::string("\"") + key + "\" must be a string");
      return doc[key].get<std::string>();
    };
    for (const char* key : {"certificate", "key", "pkcs12", "password", "apple_id"}) {
      auto v = text(key);
      if (!v.ok()) return v.status();
    }
    upload.pem = *text("certificate");
    upload.key_pem = *text("key");
    upload.password = Secret<std::string>(*text("password"));
    if (std::string a = *text("apple_id"); !a.empty()) upload.apple_id = a;
    if (std::string p12 = *text("pkcs12"); !p12.empty()) {
      auto der = Base64Decode(p12);
      if (!der.ok()) return BadBody("\"pkcs12\" must be base64");
      upload.pkcs12 = std::move(der).value();
    }
    if (upload.pem.empty() && upload.pkcs12.empty())
      return BadBody("give \"certificate\" (PEM) or \"pkcs12\" (base64)");
  } else if (auto boundary = MultipartBoundary(content_type)) {
    auto parts = ParseMultipart(request.body, *boundary);
    if (!parts.ok()) return parts.status();
    for (auto& part : *parts) {
      const std::string& n = part.name;
      if (n == "certificate" || n == "cert") {
        upload.pem = std::move(part.body);
      } else if (n == "key" || n == "private_key") {
        upload.key_pem = std::move(part.body);
      } else if (n == "pkcs12" || n == "p12") {
        upload.pkcs12 = std::move(part.body);
      } else if (n == "password") {
        upload.password = Secret<std::string>(std::move(part.body));
      } else if (n == "apple_id") {
        upload.apple_id = part.body;
      } else {
        return BadBody("unknown form field \"" + n +
                       "\" (expected certificate, key, pkcs12, password, apple_id)");
      }
    }
    if (upload.pem.empty() && upload.pkcs12.empty())
      return BadBody("the form has no \"certificate\" or \"pkcs12\" part");
  } else if (lower.rfind("application/x-pkcs12", 0) == 0) {
    upload.pkcs12 = request.body;
    upload.password =
        Secret<std::string>(std::string(request.headers.Get("x-pkcs12-password").value_or("")));
  } else {
    upload.pem = request.body;  // PEM text: certificate and key concatenated (NanoMDM's form)
  }
  return upload;
}

void AddApnsAdminRoutes(Router& router, apns::PushCertService& certs) {
  RouteOptions upload_options;
  upload_options.max_body_bytes = kUploadLimit;
  upload_options.admin = true;

  router.Add(
      "PUT", "/api/v1/apns/certificate",
      [&certs](const net::Request& request, net::Respond respond) {
        auto upload = ParsePushCertUpload(request);
        if (!upload.ok()) return respond(ErrorResponse(upload.status()));
        auto info = certs.Upload(*upload);
        if (!info.ok()) return respond(ErrorResponse(info.status()));
        nlohmann::json body = InfoJson(*info);
        body["topic_changed"] = info->topic_changed;
        respond(net::Response::Json(200, body));
      },
      upload_options);
  router.Add("GET", "/api/v1/apns/certificate",
             [&certs](const net::Request&, net::Respond respond) {
               auto info = certs.Info();
               if (!info.ok()) {
                 if (info.status().IsNotFound())
                   return respond(ErrorResponse(Status::NotFound(
                       "no push certificate: upload one with PUT /api/v1/apns/certificate",
                       "no_certificate")));
                 return respond(ErrorResponse(info.status()));
               }
               respond(net::Response::Json(200, InfoJson(*info)));
             });
  router.Add("DELETE", "/api/v1/apns/certificate",
             [&certs](const net::Request&, net::Respond respond) {
               Status s = certs.Delete();
               if (!s.ok()) return respond(ErrorResponse(s));
               respond(net::Response::Json(200, {{"deleted", true}}));
             });
  router.Add(
      "POST", "/api/v1/apns/csr", [&certs](const net::Request& request, net::Respond respond) {
        nlohmann::json doc = request.body.empty()
                                 ? nlohmann::json::object()
                                 : nlohmann::json::parse(request.body, nullptr, false);
        if (!doc.is_object())
          return respond(ErrorResponse(BadBody("the body must be a JSON object")));
        std::string cn = doc.value("common_name", std::string("mdm-gateway push"));
        std::string email = doc.value("email", std::string());
        auto csr = certs.CreateCsr(cn, email);
        if (!csr.ok()) return respond(ErrorResponse(csr.status()));
        respond(net::Response::Json(
            200, {{"csr_pem", *csr},
                  {"next",
                   "have your MDM vendor sign this CSR, upload the signed request at "
                   "identity.apple.com, then PUT the certificate Apple returns (without a key) to "
                   "/api/v1/apns/certificate"}}));
      });
  // NanoMDM's PUT /v1/pushcert: PEM certificate and key concatenated; answers topic + not_after.
  router.Add(
      "PUT", "/v1/pushcert",
      [&certs](const net::Request& request, net::Respond respond) {
        auto upload = ParsePushCertUpload(request);
        if (!upload.ok()) return respond(ErrorResponse(upload.status()));
        auto info = certs.Upload(*upload);
        if (!info.ok()) return respond(ErrorResponse(info.status()));
        respond(net::Response::Json(
            200, {{"topic", info->topic}, {"not_after", Rfc3339(info->not_after)}}));
      },
      upload_options);
}

}  // namespace mdmgw::gateway

#include "gateway/handlers/portal.h"

#include "common/crypto/digest.h"
#include "common/encoding.h"
#include "common/log.h"
#include "configurator/portal_branding.h"
#include "gateway/http_errors.h"

namespace mdmgw::gateway {
namespace {

using configurator::PortalBranding;

// The stored branding with its logo, or the defaults when none was set.
Result<PortalBranding> Load(store::ProfileStore& store) {
  auto rec = store.GetPortal();
  if (rec.status().IsNotFound()) return PortalBranding{};
  if (!rec.ok()) return rec.status();
  PortalBranding b = PortalBranding::FromJson(nlohmann::json::parse(rec->document, nullptr, false));
  if (rec->logo) {
    auto logo = configurator::ReadLogo(*rec->logo);
    if (logo.ok()) b.logo = std::move(logo).value();
  }
  return b;
}

net::Response Page(int status, std::string html) {
  net::Response r = net::Response::Text(status, std::move(html), "text/html; charset=utf-8");
  // The invitation token is in the URL: keep it out of caches and Referer headers. The page
  // loads nothing from elsewhere.
  r.headers.Set("cache-control", "no-store");
  r.headers.Set("referrer-policy", "no-referrer");
  r.headers.Set("x-content-type-options", "nosniff");
  r.headers.Set("content-security-policy",
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
  return r;
}

}  // namespace

void AddPortalRoutes(Router& router, store::ProfileStore& store, Clock& clock) {
  router.Add("GET", "/api/v1/portal", [&store](const net::Request&, net::Respond respond) {
    auto b = Load(store);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    nlohmann::json j = b->ToJson();
    j["portal_path"] = "/portal/";
    respond(net::Response::Json(200, j));
  });
  RouteOptions with_logo;
  with_logo.max_body_bytes = 2 << 20;  // a 750 KB logo in base64, and the text fields
  router.Add(
      "PUT", "/api/v1/portal",
      [&store, &clock](const net::Request& request, net::Respond respond) {
        auto update = nlohmann::json::parse(request.body, nullptr, false);
        if (update.is_discarded()) {
          return respond(
              ErrorResponse(Status::InvalidArgument("the body is not JSON", "bad_portal")));
        }
        auto current = Load(store);
        if (!current.ok()) return respond(ErrorResponse(current.status()));
        auto next = configurator::ApplyPortalUpdate(*current, update);
        if (!next.ok()) return respond(ErrorResponse(next.status()));
        store::PortalRecord rec;
        rec.document = next->ToJson().dump();
        if (next->logo) {
          rec.logo = next->logo->bytes;
          rec.logo_type = next->logo->content_type;
        }
        rec.updated_at = clock.NowUnixSeconds();
        Status s = store.PutPortal(rec);
        if (!s.ok()) return respond(ErrorResponse(s));
        log::Info("portal branding changed", {{"company_name", next->company_name}});
        nlohmann::json j = next->ToJson();
        j["portal_path"] = "/portal/";
        respond(net::Response::Json(200, j));
      },
      with_logo);

  router.Add("GET", "/portal/logo", [&store](const net::Request&, net::Respond respond) {
    auto rec = store.GetPortal();
    if (!rec.ok() || !rec->logo) {
      return respond(net::Response::JsonError(404, "no_logo", "no portal logo is set"));
    }
    net::Response r = net::Response::Text(200, *rec->logo, rec->logo_type);
    r.headers.Set("cache-control", "public, max-age=300");
    r.headers.Set("x-content-type-options", "nosniff");
    respond(std::move(r));
  });
  auto page = [&store, &clock](const net::Request& request, net::Respond respond) {
    auto b = Load(store);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    configurator::PortalInvitation inv;
    std::string token(request.QueryParam("invite").value_or(""));
    int status = 200;
    if (token.empty()) {
      inv.problem = "This link holds no invitation.";
      status = 400;
    } else {
      auto link = store.GetEnrollmentLink(HexEncode(crypto::Sha256(token)));
      int64_t now = clock.NowUnixSeconds();
      if (!link.ok() || link->kind != "ota-invitation") {
        inv.problem = "This invitation is not valid.";
        status = 404;
      } else if (link->revoked_at != 0) {
        inv.problem = "This invitation was withdrawn.";
        status = 410;
      } else if (link->max_uses > 0 && link->uses >= link->max_uses) {
        inv.problem = "This invitation has already been used.";
        status = 410;
      } else if (link->expires_at != 0 && now >= link->expires_at) {
        inv.problem = "This invitation has expired.";
        status = 410;
      } else {
        inv.valid = true;
        inv.user = link->subject;
        inv.download_url = "/enroll/ota/" + link->profile_id + "?invite=" + token;
      }
    }
    respond(Page(status, configurator::RenderPortalPage(*b, inv, b->logo.has_value())));
  };
  router.Add("GET", "/portal", page);
  router.Add("GET", "/portal/", page);
}

}  // namespace mdmgw::gateway

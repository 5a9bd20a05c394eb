#include "gateway/handlers/console.h"

#include <string>

#include "gateway/console_assets.h"

namespace mdmgw::gateway {
namespace {

std::string_view ContentType(std::string_view name) {
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

net::Response Asset(const ConsoleAsset& a) {
  net::Response r =
      net::Response::Text(200, std::string(a.data, a.size), std::string(ContentType(a.name)));
  // Everything the console loads is its own; the admin key lives in session storage, so no
  // script from elsewhere may ever run on this origin, and no page may frame it.
  r.headers.Set("content-security-policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: "
                "blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
                "base-uri 'none'");
  r.headers.Set("x-content-type-options", "nosniff");
  r.headers.Set("referrer-policy", "no-referrer");
  r.headers.Set("x-frame-options", "DENY");
  // The files change with the binary: revalidate rather than cache across upgrades.
  r.headers.Set("cache-control", "no-cache");
  return r;
}

const ConsoleAsset* Find(std::string_view name) {
  for (const auto& a : ConsoleAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace

void AddConsoleRoutes(Router& router) {
  auto index = [](const net::Request&, net::Respond respond) {
    const ConsoleAsset* a = Find("index.html");
    if (a == nullptr) return respond(net::Response::JsonError(404, "not_found", "no console"));
    respond(Asset(*a));
  };
  router.Add("GET", "/console/", index);
  router.Add("GET", "/console", [](const net::Request&, net::Respond respond) {
    net::Response r = net::Response::Text(308, "", "text/plain");
    r.headers.Set("location", "/console/");
    respond(std::move(r));
  });
  router.Add("GET", "/console/{file}", [](const net::Request& request, net::Respond respond) {
    // Only the embedded names exist, so no path can reach the file system.
    const ConsoleAsset* a = Find(request.DecodedPathParam("file"));
    if (a == nullptr) {
      return respond(net::Response::JsonError(404, "not_found", "no such console file"));
    }
    respond(Asset(*a));
  });
}

}  // namespace mdmgw::gateway

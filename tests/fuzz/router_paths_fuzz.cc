// Paths, methods and queries against the router's patterns ({name} segments, suffixes), and
// the percent-decoding of what matched. Input: "METHOD PATH?QUERY".
#include <cstdint>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "gateway/metrics.h"
#include "gateway/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mdmgw::metrics::Registry registry;
  static mdmgw::gateway::GatewayMetrics metrics(registry);
  static mdmgw::gateway::Router* router = [] {
    auto* r = new mdmgw::gateway::Router(1 << 20, metrics, nullptr);
    auto echo = [](const mdmgw::net::Request& req, mdmgw::net::Respond respond) {
      std::string out;
      for (const auto& [k, v] : req.path_params) out += k + "=" + req.DecodedPathParam(k) + ";";
      (void)req.QueryParam("format");
      respond(mdmgw::net::Response::Text(200, out, "text/plain"));
    };
    r->Add("GET", "/api/v1/dep/servers/{name}/profiles/{profile}", echo);
    r->Add("GET", "/enroll/configurator/{profile}.mobileconfig", echo);
    r->Add("PUT", "/api/v1/devices/{id}", echo);
    r->Add("GET", "/v1/push/{ids}", echo);
    r->Add("GET", "/console/{file}", echo);
    return r;
  }();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto req = std::make_unique<mdmgw::net::Request>();
  size_t space = in.find(' ');
  req->method = std::string(in.substr(0, space));
  std::string_view target = space == std::string_view::npos ? "" : in.substr(space + 1);
  size_t q = target.find('?');
  req->path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req->query = std::string(target.substr(q + 1));
  router->Handle(std::move(req), [](mdmgw::net::Response) {});
  return 0;
}

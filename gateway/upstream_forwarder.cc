#include "gateway/upstream_forwarder.h"

#include <openssl/pem.h>

#include <cctype>

#include "common/crypto/openssl_ptr.h"
#include "common/encoding.h"
#include "common/log.h"

namespace mdmgw::gateway {
namespace {

// nginx's $ssl_client_escaped_cert: the PEM with every byte but unreserved ones %XX-escaped
// (NanoMDM reads it with url.QueryUnescape).
std::string EscapedPem(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return "";
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  std::string pem = crypto::BioToString(bio.get());
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(pem.size() * 2);
  for (unsigned char c : pem) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

// The client's address without the port ("1.2.3.4:555" → "1.2.3.4", "[::1]:5" → "::1").
std::string HostOf(const std::string& address) {
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  size_t colon = address.rfind(':');
  if (colon != std::string::npos && address.find(':') == colon) return address.substr(0, colon);
  return address;
}

}  // namespace

std::string CertHeaderValue(const std::string& style, const std::string& der) {
  if (style == "escaped-pem") return EscapedPem(der);
  return ":" + Base64Encode(der) + ":";
}

Result<std::unique_ptr<UpstreamForwarder>> UpstreamForwarder::Create(
    const UpstreamForwarderOptions& options, const Clock& clock, metrics::Registry* registry) {
  std::unique_ptr<UpstreamForwarder> f(new UpstreamForwarder(options, clock, registry));
  net::H1ClientOptions http;
  http.ca_file = options.ca_file;
  http.max_idle_per_host = static_cast<size_t>(options.connections_per_core);
  http.threads = options.threads;
  // Check-ins arrive on the server's I/O threads: forward from there, on the same loop.
  http.use_caller_loop = true;
  auto client = net::H1Client::Create(http);
  if (!client.ok()) return client.status().WithContext("upstream HTTP client");
  f->http_ = std::move(client).value();
  return f;
}

UpstreamForwarder::UpstreamForwarder(const UpstreamForwarderOptions& options, const Clock& clock,
                                     metrics::Registry* registry)
    : options_(options), clock_(clock) {
  header_name_ = !options.cert_header.empty()                 ? options.cert_header
                 : options.cert_header_style == "escaped-pem" ? "X-Ssl-Client-Cert"
                                                              : "Client-Cert";
  if (registry == nullptr) {
    own_registry_ = std::make_unique<metrics::Registry>();
    registry = own_registry_.get();
  }
  requests_ = &registry->AddCounter("mdmgw_upstream_requests_total",
                                    "Requests forwarded to a core MDM, by outcome",
                                    {"upstream", "outcome"});
  latency_ = &registry->AddHistogram("mdmgw_upstream_latency_seconds",
                                     "Time from forwarding to the core's answer",
                                     {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15}, {"upstream"});
  breaker_open_ = &registry->AddGauge("mdmgw_upstream_breaker_open",
                                      "1 while a core MDM's circuit breaker is open", {"upstream"});
}

UpstreamForwarder::~UpstreamForwarder() { Stop(); }

void UpstreamForwarder::Stop() {
  std::unique_ptr<net::H1Client> http;
  {
    std::lock_guard lock(mu_);
    http = std::move(http_);
  }
  // Destroying the client joins its threads; forwards still pending are dropped (the server has
  // shut down by then, so no device is waiting on them).
}

UpstreamForwarder::PerCore& UpstreamForwarder::Core(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = cores_.find(name);
  if (it != cores_.end()) return it->second;
  PerCore& c = cores_[name];
  c.breaker = std::make_unique<CircuitBreaker>(clock_, options_.breaker_failures,
                                               options_.breaker_open_for);
  c.ok = &requests_->WithLabels({name, "ok"});
  c.upstream_5xx = &requests_->WithLabels({name, "upstream_5xx"});
  c.failed = &requests_->WithLabels({name, "unreachable"});
  c.refused = &requests_->WithLabels({name, "breaker_open"});
  c.latency = &latency_->WithLabels({name});
  c.open = &breaker_open_->WithLabels({name});
  return c;
}

net::Response UpstreamForwarder::Unavailable(std::string_view why) const {
  net::Response r = net::Response::Text(503, std::string(why) + "\n");
  r.headers.Set("retry-after", std::to_string(options_.retry_after_seconds));
  return r;
}

CircuitBreaker::State UpstreamForwarder::BreakerState(const std::string& upstream) {
  return Core(upstream).breaker->state();
}

void UpstreamForwarder::Forward(const UpstreamTarget& target, const std::string& url,
                                const net::Request& request, const DeviceIdentity& identity,
                                const std::string& request_id, net::Respond respond) {
  PerCore& core = Core(target.name);
  if (!core.breaker->Allow()) {
    core.refused->Inc();
    return respond(Unavailable("core MDM unavailable (circuit open)"));
  }
  net::ClientRequest out;
  out.method = request.method;
  out.url = url;
  out.timeout = options_.timeout;
  out.body = request.body;  // byte for byte: Mdm-Signature must still verify upstream
  for (const char* name : {"content-type", "mdm-signature", "user-agent"}) {
    if (auto v = request.headers.Get(name)) out.headers.Add(name, std::string(*v));
  }
  out.headers.Add(header_name_, CertHeaderValue(options_.cert_header_style, identity.cert_der));
  out.headers.Add("x-forwarded-for", HostOf(request.remote_address));
  out.headers.Add("x-forwarded-proto", "https");
  out.headers.Add("x-request-id", request_id);

  net::H1Client* client = nullptr;
  {
    std::lock_guard lock(mu_);
    client = http_.get();
  }
  if (client == nullptr) return respond(Unavailable("gateway stopping"));
  auto start = std::chrono::steady_clock::now();
  std::string upstream = target.name;
  client->Send(std::move(out), [this, &core, start, upstream, request_id,
                                respond = std::move(respond)](Result<net::ClientResponse> r) {
    core.latency->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!r.ok()) {
      core.failed->Inc();
      core.breaker->RecordFailure();
      core.open->Set(core.breaker->state() == CircuitBreaker::State::kOpen ? 1 : 0);
      log::Warn(
          "upstream unreachable",
          {{"upstream", upstream}, {"request_id", request_id}, {"error", r.status().ToString()}});
      return respond(Unavailable("core MDM unavailable"));
    }
    if (r->status >= 500) {
      core.upstream_5xx->Inc();
      core.breaker->RecordFailure();
      core.open->Set(core.breaker->state() == CircuitBreaker::State::kOpen ? 1 : 0);
      log::Warn("upstream error",
                {{"upstream", upstream}, {"request_id", request_id}, {"status", r->status}});
      return respond(Unavailable("core MDM error"));
    }
    core.ok->Inc();
    core.breaker->RecordSuccess();
    core.open->Set(0);
    net::Response resp;
    resp.status = r->status;
    for (const char* name : {"content-type", "retry-after", "content-disposition"}) {
      if (auto v = r->headers.Get(name)) resp.headers.Set(name, std::string(*v));
    }
    resp.headers.Set("x-request-id", request_id);
    resp.body = std::move(r->body);
    respond(std::move(resp));
  });
}

}  // namespace mdmgw::gateway

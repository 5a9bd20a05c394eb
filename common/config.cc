#include "common/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace mdmgw {
namespace {

using Setter = std::function<Status(GatewayConfig&, std::string_view)>;
using Getter = std::function<std::string(const GatewayConfig&)>;

template <typename Field>
std::pair<Setter, Getter> StringField(Field field) {
  return {[field](GatewayConfig& c, std::string_view v) {
            field(c) = std::string(v);
            return Status::Ok();
          },
          [field](const GatewayConfig& c) { return field(const_cast<GatewayConfig&>(c)); }};
}

template <typename Int, typename Field>
std::pair<Setter, Getter> IntField(Field field, int64_t min, int64_t max) {
  return {[field, min, max](GatewayConfig& c, std::string_view v) {
            int64_t n = 0;
            auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || ptr != v.data() + v.size()) {
              return Status::InvalidArgument("'" + std::string(v) + "' is not an integer");
            }
            if (n < min || n > max) {
              return Status::InvalidArgument(std::to_string(n) + " is outside " +
                                             std::to_string(min) + ".." + std::to_string(max));
            }
            field(c) = static_cast<Int>(n);
            return Status::Ok();
          },
          [field](const GatewayConfig& c) {
            return std::to_string(field(const_cast<GatewayConfig&>(c)));
          }};
}

template <typename Field>
std::pair<Setter, Getter> BoolField(Field field) {
  return {[field](GatewayConfig& c, std::string_view v) {
            if (v == "true" || v == "1") {
              field(c) = true;
            } else if (v == "false" || v == "0") {
              field(c) = false;
            } else {
              return Status::InvalidArgument("'" + std::string(v) + "' is not true or false");
            }
            return Status::Ok();
          },
          [field](const GatewayConfig& c) {
            return std::string(field(const_cast<GatewayConfig&>(c)) ? "true" : "false");
          }};
}

ConfigOption Make(std::string section, std::string key, std::string flag, std::string env,
                  std::string help, std::pair<Setter, Getter> io) {
  return ConfigOption{std::move(section), std::move(key),      std::move(flag),     std::move(env),
                      std::move(help),    std::move(io.first), std::move(io.second)};
}

std::vector<ConfigOption> BuildOptions() {
  using C = GatewayConfig;
  std::vector<ConfigOption> o;
  o.push_back(Make("", "data_dir", "--data-dir", "MDMGW_DATA_DIR",
                   "data dir: SQLite file, master key file, generated certificates",
                   StringField([](C& c) -> std::string& { return c.data_dir; })));
  o.push_back(Make("server", "listen", "--listen", "MDMGW_LISTEN",
                   "address:port for devices and admins",
                   StringField([](C& c) -> std::string& { return c.server.listen; })));
  o.push_back(Make("server", "public_url", "--public-url", "MDMGW_SERVER_PUBLIC_URL",
                   "https://host[:port] devices use to reach the gateway (enrollment URLs)",
                   StringField([](C& c) -> std::string& { return c.server.public_url; })));
  o.push_back(Make("store", "url", "--store", "MDMGW_STORE",
                   "sqlite:PATH or postgres://user:password@host:port/db",
                   StringField([](C& c) -> std::string& { return c.store.url; })));
  o.push_back(
      Make("store", "max_connections", "--store-max-connections", "MDMGW_STORE_MAX_CONNECTIONS",
           "PostgreSQL connections this instance may open (several instances share the server)",
           IntField<int>([](C& c) -> int& { return c.store.max_connections; }, 1, 1000)));
  o.push_back(
      Make("store", "lease_ttl_seconds", "--lease-ttl-seconds", "MDMGW_STORE_LEASE_TTL_SECONDS",
           "run-once work (DEP sync, housekeeping) moves to another instance this long after its "
           "holder dies",
           IntField<int>([](C& c) -> int& { return c.store.lease_ttl_seconds; }, 2, 3600)));
  o.push_back(Make("upstream", "url", "--upstream-url", "MDMGW_UPSTREAM_URL",
                   "the core MDM's endpoint (NanoMDM: http://core:9000/mdm)",
                   StringField([](C& c) -> std::string& { return c.upstream.url; })));
  o.push_back(Make("upstream", "checkin_url", "--upstream-checkin-url",
                   "MDMGW_UPSTREAM_CHECKIN_URL",
                   "optional separate check-in endpoint of the core MDM",
                   StringField([](C& c) -> std::string& { return c.upstream.checkin_url; })));
  o.push_back(Make("devices", "ca_file", "--devices-ca-file", "MDMGW_DEVICES_CA_FILE",
                   "CA bundle for device identities (mTLS and Mdm-Signature)",
                   StringField([](C& c) -> std::string& { return c.devices.ca_file; })));
  o.push_back(
      Make("devices", "checkin_max_body_bytes", "--checkin-max-body-bytes",
           "MDMGW_DEVICES_CHECKIN_MAX_BODY_BYTES", "body limit for check-in and connect",
           IntField<uint64_t>([](C& c) -> uint64_t& { return c.devices.checkin_max_body_bytes; }, 1,
                              64 << 20)));
  o.push_back(Make("devices", "trusted_proxies", "--trusted-proxies",
                   "MDMGW_DEVICES_TRUSTED_PROXIES",
                   "CIDRs allowed to pass an RFC 9440 Client-Cert header (comma-separated)",
                   StringField([](C& c) -> std::string& { return c.devices.trusted_proxies; })));
  o.push_back(
      Make("devices", "stale_after_days", "--stale-after-days", "MDMGW_DEVICES_STALE_AFTER_DAYS",
           "remove enrollments whose identity expired this many days ago",
           IntField<int>([](C& c) -> int& { return c.devices.stale_after_days; }, 0, 36500)));
  o.push_back(Make("devices", "stale_cleanup_dry_run", "--stale-cleanup-dry-run",
                   "MDMGW_DEVICES_STALE_CLEANUP_DRY_RUN",
                   "report stale enrollments without removing them (true/false)",
                   BoolField([](C& c) -> bool& { return c.devices.stale_cleanup_dry_run; })));
  o.push_back(Make("upstream", "cert_header_style", "--upstream-cert-header-style",
                   "MDMGW_UPSTREAM_CERT_HEADER_STYLE",
                   "device certificate header for the core: rfc9440 or escaped-pem",
                   StringField([](C& c) -> std::string& { return c.upstream.cert_header_style; })));
  o.push_back(Make("upstream", "cert_header", "--upstream-cert-header",
                   "MDMGW_UPSTREAM_CERT_HEADER",
                   "header name (default Client-Cert, or X-Ssl-Client-Cert for escaped-pem)",
                   StringField([](C& c) -> std::string& { return c.upstream.cert_header; })));
  o.push_back(Make("upstream", "timeout_seconds", "--upstream-timeout-seconds",
                   "MDMGW_UPSTREAM_TIMEOUT_SECONDS", "seconds a check-in waits for the core MDM",
                   IntField<int>([](C& c) -> int& { return c.upstream.timeout_seconds; }, 1, 600)));
  o.push_back(
      Make("upstream", "retry_after_seconds", "--upstream-retry-after-seconds",
           "MDMGW_UPSTREAM_RETRY_AFTER_SECONDS", "Retry-After sent with 503 when the core is down",
           IntField<int>([](C& c) -> int& { return c.upstream.retry_after_seconds; }, 1, 86400)));
  o.push_back(Make("upstream", "connections", "--upstream-connections",
                   "MDMGW_UPSTREAM_CONNECTIONS", "keep-alive connections kept per core MDM",
                   IntField<int>([](C& c) -> int& { return c.upstream.connections; }, 1, 4096)));
  o.push_back(Make("apns", "base_url", "--apns-base-url", "MDMGW_APNS_BASE_URL",
                   "APNs provider API base URL",
                   StringField([](C& c) -> std::string& { return c.apns.base_url; })));
  o.push_back(Make("apns", "ca_file", "--apns-ca-file", "MDMGW_APNS_CA_FILE",
                   "extra CA to trust for the APNs host (simulators)",
                   StringField([](C& c) -> std::string& { return c.apns.ca_file; })));
  o.push_back(Make("dep", "ca_file", "--dep-ca-file", "MDMGW_DEP_CA_FILE",
                   "extra CA to trust for DEP API hosts (simulators)",
                   StringField([](C& c) -> std::string& { return c.dep.ca_file; })));
  o.push_back(Make("dep", "timeout_seconds", "--dep-timeout-seconds", "MDMGW_DEP_TIMEOUT_SECONDS",
                   "how long one exchange with Apple's DEP API may take (default 30)",
                   IntField<int>([](C& c) -> int& { return c.dep.timeout_seconds; }, 1, 600)));
  o.push_back(Make("apns", "connections", "--apns-connections", "MDMGW_APNS_CONNECTIONS",
                   "HTTP/2 connections in the APNs push pool",
                   IntField<int>([](C& c) -> int& { return c.apns.connections; }, 1, 64)));
  o.push_back(
      Make("apns", "push_timeout_seconds", "--apns-push-timeout-seconds",
           "MDMGW_APNS_PUSH_TIMEOUT_SECONDS",
           "seconds from a push request to its final answer, retries included",
           IntField<int>([](C& c) -> int& { return c.apns.push_timeout_seconds; }, 1, 3600)));
  o.push_back(
      Make("enrollment", "machineinfo_ca_file", "--machineinfo-ca-file",
           "MDMGW_ENROLLMENT_MACHINEINFO_CA_FILE", "extra CA for MachineInfo signers",
           StringField([](C& c) -> std::string& { return c.enrollment.machineinfo_ca_file; })));
  o.push_back(
      Make("enrollment", "signing_cert_file", "--enrollment-signing-cert-file",
           "MDMGW_ENROLLMENT_SIGNING_CERT_FILE",
           "certificate (+ chain) that signs enrollment profiles; default: the TLS one",
           StringField([](C& c) -> std::string& { return c.enrollment.signing_cert_file; })));
  o.push_back(
      Make("enrollment", "signing_key_file", "--enrollment-signing-key-file",
           "MDMGW_ENROLLMENT_SIGNING_KEY_FILE", "its private key",
           StringField([](C& c) -> std::string& { return c.enrollment.signing_key_file; })));
  o.push_back(Make("server", "tls_cert_file", "--tls-cert-file", "MDMGW_SERVER_TLS_CERT_FILE",
                   "server certificate chain (PEM), leaf first",
                   StringField([](C& c) -> std::string& { return c.server.tls_cert_file; })));
  o.push_back(Make("server", "tls_key_file", "--tls-key-file", "MDMGW_SERVER_TLS_KEY_FILE",
                   "server private key (PEM)",
                   StringField([](C& c) -> std::string& { return c.server.tls_key_file; })));
  o.push_back(Make("server", "threads", "--threads", "MDMGW_SERVER_THREADS",
                   "I/O threads (0 = one per core)",
                   IntField<int>([](C& c) -> int& { return c.server.threads; }, 0, 256)));
  o.push_back(
      Make("server", "max_connections", "--max-connections", "MDMGW_SERVER_MAX_CONNECTIONS",
           "open connections at most; more are closed at accept",
           IntField<int>([](C& c) -> int& { return c.server.max_connections; }, 1, 1000000)));
  o.push_back(Make("server", "max_body_bytes", "--max-body-bytes", "MDMGW_SERVER_MAX_BODY_BYTES",
                   "request body limit (routes may set lower)",
                   IntField<uint64_t>([](C& c) -> uint64_t& { return c.server.max_body_bytes; }, 1,
                                      1ull << 30)));
  o.push_back(Make("server", "max_header_bytes", "--max-header-bytes",
                   "MDMGW_SERVER_MAX_HEADER_BYTES", "request header block limit",
                   IntField<uint64_t>([](C& c) -> uint64_t& { return c.server.max_header_bytes; },
                                      1024, 1 << 20)));
  o.push_back(
      Make("server", "max_concurrent_streams", "--max-concurrent-streams",
           "MDMGW_SERVER_MAX_CONCURRENT_STREAMS", "HTTP/2 streams served at once per connection",
           IntField<uint32_t>([](C& c) -> uint32_t& { return c.server.max_concurrent_streams; }, 1,
                              10000)));
  o.push_back(
      Make("server", "idle_timeout_seconds", "--idle-timeout-seconds",
           "MDMGW_SERVER_IDLE_TIMEOUT_SECONDS", "close a connection idle this long",
           IntField<int>([](C& c) -> int& { return c.server.idle_timeout_seconds; }, 1, 86400)));
  o.push_back(
      Make("server", "read_timeout_seconds", "--read-timeout-seconds",
           "MDMGW_SERVER_READ_TIMEOUT_SECONDS", "a started request must arrive whole within this",
           IntField<int>([](C& c) -> int& { return c.server.read_timeout_seconds; }, 1, 3600)));
  o.push_back(
      Make("server", "handler_timeout_seconds", "--handler-timeout-seconds",
           "MDMGW_SERVER_HANDLER_TIMEOUT_SECONDS",
           "a whole request must be answered within this (long admin calls: sync?wait=1)",
           IntField<int>([](C& c) -> int& { return c.server.handler_timeout_seconds; }, 1, 86400)));
  o.push_back(
      Make("server", "handshake_timeout_seconds", "--handshake-timeout-seconds",
           "MDMGW_SERVER_HANDSHAKE_TIMEOUT_SECONDS", "TLS handshake deadline",
           IntField<int>([](C& c) -> int& { return c.server.handshake_timeout_seconds; }, 1, 600)));
  o.push_back(
      Make("server", "shutdown_grace_seconds", "--shutdown-grace-seconds",
           "MDMGW_SERVER_SHUTDOWN_GRACE_SECONDS", "how long in-flight requests get on SIGTERM",
           IntField<int>([](C& c) -> int& { return c.server.shutdown_grace_seconds; }, 0, 3600)));
  o.push_back(Make(
      "server", "auth_failure_limit", "--auth-failure-limit", "MDMGW_SERVER_AUTH_FAILURE_LIMIT",
      "bad admin API keys allowed per address per window before 429 (default 20)",
      IntField<int>([](C& c) -> int& { return c.server.auth_failure_limit; }, 1, 1000000)));
  o.push_back(Make(
      "server", "auth_failure_window_seconds", "--auth-failure-window-seconds",
      "MDMGW_SERVER_AUTH_FAILURE_WINDOW_SECONDS",
      "the window of auth_failure_limit, in seconds (default 60)",
      IntField<int>([](C& c) -> int& { return c.server.auth_failure_window_seconds; }, 1, 86400)));
  o.push_back(Make("log", "level", "--log-level", "MDMGW_LOG_LEVEL",
                   "debug, info, warn, error or off",
                   StringField([](C& c) -> std::string& { return c.log.level; })));
  return o;
}

std::string TomlNodeToString(const toml::node& node, bool* ok) {
  *ok = true;
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  *ok = false;
  return "";
}

}  // namespace

std::string GatewayConfig::EffectiveStoreUrl() const {
  return store.url.empty() ? "sqlite:" + data_dir + "/mdm-gateway.db" : store.url;
}

const std::vector<ConfigOption>& ConfigOptions() {
  static const std::vector<ConfigOption>* options = new std::vector<ConfigOption>(BuildOptions());
  return *options;
}

Status ApplyTomlText(GatewayConfig& config, std::string_view toml_text, std::string_view origin) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status::InvalidArgument(msg.str(), "bad_config");
  }
  const auto& options = ConfigOptions();
  auto apply = [&](const std::string& section, const std::string& key,
                   const toml::node& node) -> Status {
    for (const auto& opt : options) {
      if (opt.section == section && opt.key == key) {
        bool ok = false;
        std::string value = TomlNodeToString(node, &ok);
        std::string where =
            std::string(origin) + ": " + (section.empty() ? "" : "[" + section + "] ") + key;
        if (!ok)
          return Status::InvalidArgument(where + ": expected a string, integer or boolean",
                                         "bad_config");
        Status s = opt.set(config, value);
        return s.ok() ? s : Status::InvalidArgument(where + ": " + s.message(), "bad_config");
      }
    }
    return Status::InvalidArgument(std::string(origin) + ": unknown setting " +
                                       (section.empty() ? "" : "[" + section + "] ") + key,
                                   "bad_config");
  };
  for (const auto& [k, v] : table) {
    std::string key(k.str());
    if (const toml::table* sub = v.as_table()) {
      for (const auto& [k2, v2] : *sub) {
        MDMGW_RETURN_IF_ERROR(apply(key, std::string(k2.str()), v2));
      }
    } else {
      MDMGW_RETURN_IF_ERROR(apply("", key, v));
    }
  }
  return Status::Ok();
}

Status ApplyTomlFile(GatewayConfig& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound("cannot read config file " + path, "bad_config");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ApplyTomlText(config, ss.str(), path);
}

Status ApplyEnvironment(GatewayConfig& config,
                        const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& opt : ConfigOptions()) {
    const char* v = getenv_fn(opt.env.c_str());
    if (v == nullptr) continue;
    Status s = opt.set(config, v);
    if (!s.ok()) return Status::InvalidArgument(opt.env + ": " + s.message(), "bad_config");
  }
  return Status::Ok();
}

Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port) {
  std::string_view h;
  std::string_view p;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("'" + std::string(text) + "' is not [v6-address]:port");
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("'" + std::string(text) + "' is not address:port");
    }
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (h.empty() || ec != std::errc() || ptr != p.data() + p.size() || n > 65535) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not address:port");
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(n);
  return Status::Ok();
}

Status Validate(const GatewayConfig& config) {
  std::string host;
  uint16_t port = 0;
  Status s = ParseHostPort(config.server.listen, &host, &port);
  if (!s.ok()) return Status::InvalidArgument("listen: " + s.message(), "bad_config");
  if (config.data_dir.empty()) return Status::InvalidArgument("data_dir is empty", "bad_config");
  if (!config.server.public_url.empty() &&
      (config.server.public_url.rfind("https://", 0) != 0 || config.server.public_url.size() < 9)) {
    return Status::InvalidArgument(
        "public_url: '" + config.server.public_url +
            "' must be https://host[:port] (devices enroll over TLS only)",
        "bad_config");
  }
  if (config.server.tls_cert_file.empty() != config.server.tls_key_file.empty()) {
    return Status::InvalidArgument("tls_cert_file and tls_key_file must be given together",
                                   "bad_config");
  }
  if (config.enrollment.signing_cert_file.empty() != config.enrollment.signing_key_file.empty()) {
    return Status::InvalidArgument("signing_cert_file and signing_key_file must be given together",
                                   "bad_config");
  }
  if (config.upstream.cert_header_style != "rfc9440" &&
      config.upstream.cert_header_style != "escaped-pem") {
    return Status::InvalidArgument("upstream cert_header_style: '" +
                                       config.upstream.cert_header_style +
                                       "' is neither rfc9440 nor escaped-pem",
                                   "bad_config");
  }
  for (const std::string* u : {&config.upstream.url, &config.upstream.checkin_url}) {
    if (!u->empty() && u->rfind("http://", 0) != 0 && u->rfind("https://", 0) != 0) {
      return Status::InvalidArgument("upstream: '" + *u + "' is not an http(s) URL", "bad_config");
    }
  }
  std::string url = config.EffectiveStoreUrl();
  if (url.rfind("sqlite:", 0) != 0 && url.rfind("postgres://", 0) != 0 &&
      url.rfind("postgresql://", 0) != 0) {
    return Status::InvalidArgument("store: '" + url + "' is neither sqlite:PATH nor postgres://...",
                                   "bad_config");
  }
  return Status::Ok();
}

}  // namespace mdmgw

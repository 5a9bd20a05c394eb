// GatewayConfig: the one configuration tree, loaded and validated once at start and passed as
// const&.
//
// Sources, lowest precedence first: built-in defaults, the TOML file (`[section] key`), environment
// variables (MDMGW_*), command-line flags. Every option is one row of ConfigOptions(); `serve
// --help` and the README table are generated from/kept in step with that table. DESIGN §9 fixes the
// names
// --listen, --data-dir, --store, MDMGW_MASTER_KEY, --upstream-url, --devices-ca-file,
// --apns-base-url,
// --apns-ca-file, --machineinfo-ca-file.
//
// Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mdmgw {

struct ServerConfig {
  std::string listen = "127.0.0.1:8443";  // Default: loopback only.
  // How devices reach the gateway (DEP profile URLs, enrollment URLs): https://host[:port].
  // Default: https://<listen address, localhost for a wildcard>:<port>.
  std::string public_url;
  std::string tls_cert_file;  // Default: <data_dir>/tls/server.crt, generated on first run.
  std::string tls_key_file;   // Default: <data_dir>/tls/server.key, generated on first run.
  int threads = 0;            // Default: 0 = one per core.
  int max_connections = 10000;
  uint64_t max_body_bytes = 1 << 20;      // Default: 1 MiB (routes may set a lower limit).
  uint64_t max_header_bytes = 16 << 10;   // Default: 16 KiB for the whole header block.
  uint32_t max_concurrent_streams = 100;  // Default: 100 per HTTP/2 connection.
  int idle_timeout_seconds = 60;          // Default: a connection with no request open is closed.
  int read_timeout_seconds = 30;          // Default: a request must arrive whole within this.
  int handler_timeout_seconds = 600;  // Default: a whole request is answered within this (10 min).
  int handshake_timeout_seconds = 10;
  int shutdown_grace_seconds = 15;  // Default: in-flight requests get this long on SIGTERM.
  // Admin API key guessing: after this many bad keys from one address within the window, its
  // admin requests get 429 until the window ends. Default: 20 per 60 s.
  int auth_failure_limit = 20;
  int auth_failure_window_seconds = 60;
};

struct StoreConfig {
  std::string url;  // Default: sqlite:<data_dir>/mdm-gateway.db. Or postgres://user@host:port/db.
  int max_connections = 8;  // Default: 8 PostgreSQL connections per instance.
  // Leases of run-once work (DEP sync per server, housekeeping) expire this long after their
  // holder stops renewing them (renewed every third of it). Default: 15 s.
  int lease_ttl_seconds = 15;
};

struct DevicesConfig {
  // CA bundle for device identities, trusted beside the gateway's own enrollment CA.
  // Default: none (only identities the gateway issued are trusted).
  std::string ca_file;
  uint64_t checkin_max_body_bytes = 256
                                    << 10;  // Default: 256 KiB for /mdm/checkin and /mdm/connect.
  // Comma-separated CIDRs of load balancers allowed to pass an RFC 9440 Client-Cert header.
  // Default: none (the header is never trusted).
  std::string trusted_proxies;
  // Enrollments whose identity expired this many days ago are removed. Default: 180.
  int stale_after_days = 180;
  bool stale_cleanup_dry_run = false;  // Default: remove (true: only report).
};

struct UpstreamConfig {
  std::string url;          // The core MDM's endpoint, e.g. http://core:9000/mdm. Default: none.
  std::string checkin_url;  // Optional separate check-in endpoint. Default: none (url takes both).
  // How the device certificate goes upstream: "rfc9440" (Client-Cert: :base64 DER:) or
  // "escaped-pem" (nginx's URL-escaped PEM). Default: rfc9440.
  std::string cert_header_style = "rfc9440";
  // Header name. Default: Client-Cert (rfc9440) or X-Ssl-Client-Cert (escaped-pem).
  std::string cert_header;
  int timeout_seconds = 15;      // Default: a device waits at most this long for the core.
  int retry_after_seconds = 30;  // Default: Retry-After sent with 503 when the core is unusable.
  int connections = 64;          // Default: keep-alive connections kept per core.
};

struct DepConfig {
  std::string ca_file;       // Extra CA to trust for DEP API hosts (simulators). Default: none.
  int timeout_seconds = 30;  // Default: each exchange with Apple's DEP API gets at most 30 s.
};

struct ApnsConfig {
  std::string base_url = "https://api.push.apple.com";
  std::string ca_file;  // Extra CA to trust for the APNs host (simulators). Default: none.
  int connections = 4;  // HTTP/2 connections in the push pool.
  int push_timeout_seconds = 60;  // from a push request to its final answer (retries included)
};

struct EnrollmentConfig {
  std::string machineinfo_ca_file;  // Extra CA for MachineInfo signers. Default: none.
  // Apple's device CA chain for MachineInfo signers. Default: the embedded Apple bundle.
  std::string apple_device_ca_file;
  // Signs enrollment profiles (PEM: certificate then chain; key). Default: the server's TLS pair.
  std::string signing_cert_file;
  std::string signing_key_file;
};

struct LogConfig {
  std::string level = "info";  // debug, info, warn, error, off.
};

struct GatewayConfig {
  std::string data_dir = "./var";
  ServerConfig server;
  StoreConfig store;
  DevicesConfig devices;
  UpstreamConfig upstream;
  ApnsConfig apns;
  DepConfig dep;
  EnrollmentConfig enrollment;
  LogConfig log;

  // Derived by Finalize(): the store URL and TLS paths resolved against data_dir.
  std::string EffectiveStoreUrl() const;
};

// One configuration option: where it comes from and how it is parsed.
struct ConfigOption {
  std::string section;  // TOML table ("" = top level)
  std::string key;      // TOML key
  std::string flag;     // "--listen" ("" = no flag)
  std::string env;      // "MDMGW_LISTEN"
  std::string help;
  std::function<Status(GatewayConfig&, std::string_view)> set;
  std::function<std::string(const GatewayConfig&)> get;
};

// Every option, in --help order.
const std::vector<ConfigOption>& ConfigOptions();

// Applies a TOML document. Unknown sections or keys are errors (a typo must not be ignored).
Status ApplyTomlText(GatewayConfig& config, std::string_view toml_text, std::string_view origin);
Status ApplyTomlFile(GatewayConfig& config, const std::string& path);
// Applies MDMGW_* variables read through |getenv| (injectable for tests).
Status ApplyEnvironment(GatewayConfig& config,
                        const std::function<const char*(const char*)>& getenv_fn);
// Validates ranges and cross-field rules. Call after all sources are applied.
Status Validate(const GatewayConfig& config);

// Splits "host:port" / "[v6]:port". InvalidArgument on a malformed value.
Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

}  // namespace mdmgw

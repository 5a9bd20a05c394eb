// AdminTarget: which running gateway the admin CLI talks to, and with what key.
//
// Each setting comes from the first place that has it: the command-line flag, then the environment
// (MDMGW_SERVER_URL, MDMGW_API_KEY, MDMGW_CA_FILE), then the CLI config file — --cli-config, else
// $MDMGW_CLI_CONFIG, else ~/.config/mdm-gateway/cli.toml if it exists — holding
//     server_url = "https://gw.example.com:8443"
//     api_key = "mdmgw_..."
//     ca_file = "/etc/mdm-gateway/ca.pem"
// Defaults: https://127.0.0.1:8443 (the gateway's default listen address) and, for trust, the
// self-signed certificate a gateway on this machine generated (<data dir>/tls/server.crt, the data
// dir from MDMGW_DATA_DIR or ./var) when it exists; otherwise the system roots.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace mdmgw::gateway::cli {

struct AdminTarget {
  std::string server_url;  // scheme://host:port, no trailing slash
  std::string api_key;     // never logged or printed
  std::string ca_file;     // empty: system roots
};

struct AdminTargetFlags {
  std::string server_url, api_key, ca_file, config_file;
};

using GetEnvFn = std::function<const char*(const char*)>;

// InvalidArgument (reason "bad_cli_config") for an unreadable or malformed config file, an
// unknown key in it, or a server URL that is not http(s); "no_api_key" when no source has a key.
Result<AdminTarget> ResolveAdminTarget(const AdminTargetFlags& flags, const GetEnvFn& env);

}  // namespace mdmgw::gateway::cli

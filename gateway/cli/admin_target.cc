#include "gateway/cli/admin_target.h"

#include <toml++/toml.h>

#include <filesystem>

namespace mdmgw::gateway::cli {
namespace {

Status BadConfig(const std::string& why) { return Status::InvalidArgument(why, "bad_cli_config"); }

std::string FromEnv(const GetEnvFn& env, const char* name) {
  const char* v = env(name);
  return v != nullptr ? std::string(v) : std::string();
}

}  // namespace

Result<AdminTarget> ResolveAdminTarget(const AdminTargetFlags& flags, const GetEnvFn& env) {
  AdminTarget from_file;
  std::string file = flags.config_file;
  bool explicit_file = !file.empty();
  if (file.empty()) {
    file = FromEnv(env, "MDMGW_CLI_CONFIG");
    explicit_file = !file.empty();
  }
  if (file.empty()) {
    std::string home = FromEnv(env, "HOME");
    if (!home.empty()) file = home + "/.config/mdm-gateway/cli.toml";
  }
  if (!file.empty() && (explicit_file || std::filesystem::exists(file))) {
    toml::table table;
    try {
      table = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      return BadConfig("CLI config " + file + ": " + std::string(e.description()));
    }
    for (const auto& [key, node] : table) {
      const std::string k(key.str());
      auto value = node.value<std::string>();
      if (!value) return BadConfig("CLI config " + file + ": " + k + " must be a string");
      if (k == "server_url") {
        from_file.server_url = *value;
      } else if (k == "api_key") {
        from_file.api_key = *value;
      } else if (k == "ca_file") {
        from_file.ca_file = *value;
      } else {
        return BadConfig("CLI config " + file + ": unknown setting " + k +
                         " (server_url, api_key, ca_file)");
      }
    }
  }
  auto pick = [&](const std::string& flag, const char* env_name, const std::string& file_value) {
    if (!flag.empty()) return flag;
    std::string e = FromEnv(env, env_name);
    return !e.empty() ? e : file_value;
  };
  AdminTarget t;
  t.server_url = pick(flags.server_url, "MDMGW_SERVER_URL", from_file.server_url);
  t.api_key = pick(flags.api_key, "MDMGW_API_KEY", from_file.api_key);
  t.ca_file = pick(flags.ca_file, "MDMGW_CA_FILE", from_file.ca_file);
  if (t.server_url.empty()) t.server_url = "https://127.0.0.1:8443";
  while (!t.server_url.empty() && t.server_url.back() == '/') t.server_url.pop_back();
  if (t.server_url.rfind("https://", 0) != 0 && t.server_url.rfind("http://", 0) != 0) {
    return BadConfig("server URL '" + t.server_url + "' is not http(s)://host:port");
  }
  if (t.ca_file.empty()) {
    std::string data_dir = FromEnv(env, "MDMGW_DATA_DIR");
    if (data_dir.empty()) data_dir = "var";
    std::string local = data_dir + "/tls/server.crt";
    if (std::filesystem::exists(local)) t.ca_file = local;
  }
  if (t.api_key.empty()) {
    return Status::InvalidArgument(
        "no API key: pass --api-key, set MDMGW_API_KEY, or put api_key in the CLI config "
        "(create one with `mdm-gateway apikey create --name NAME`)",
        "no_api_key");
  }
  return t;
}

}  // namespace mdmgw::gateway::cli

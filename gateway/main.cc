// mdm-gateway: the executable. Parses the command line, builds the GatewayConfig (defaults < TOML <
// MDMGW_* environment < flags) and runs one subcommand. Everything else lives in the libraries.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "common/config.h"
#include "common/log.h"
#include "gateway/api_keys.h"
#include "gateway/cli/admin_cli.h"
#include "gateway/demo/demo.h"
#include "gateway/gateway_app.h"
#include "gateway/http_errors.h"
#include "gateway/master_key.h"

namespace {

using mdmgw::GatewayConfig;
using mdmgw::Status;

const char* GetEnv(const char* name) { return std::getenv(name); }

// Flag values given on the command line, by flag name.
using FlagValues = std::map<std::string, std::optional<std::string>>;

// Adds --config and one CLI option per config option that has a flag (all of them, or only |only|
// when given).
void AddConfigFlags(CLI::App* cmd, std::string& config_file, FlagValues& values,
                    const std::vector<std::string>& only = {}) {
  cmd->add_option(
         "--config", config_file,
         "TOML configuration file (default: $MDMGW_CONFIG, else ./mdm-gateway.toml if present)")
      ->type_name("FILE");
  GatewayConfig defaults;
  for (const auto& opt : mdmgw::ConfigOptions()) {
    if (opt.flag.empty()) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), opt.flag) == only.end()) continue;
    std::string def = opt.get(defaults);
    if (opt.flag == "--store") def = "sqlite:<data-dir>/mdm-gateway.db";
    if (opt.flag == "--tls-cert-file" || opt.flag == "--tls-key-file")
      def = "generated in <data-dir>/tls";
    std::string where = "env " + opt.env + "; toml " +
                        (opt.section.empty() ? "" : "[" + opt.section + "] ") + opt.key;
    std::string desc =
        opt.help + (def.empty() ? "" : " (default: " + def + ")") + " [" + where + "]";
    cmd->add_option(opt.flag, values[opt.flag], desc)->type_name("VALUE");
  }
}

// Builds the configuration: defaults, then the TOML file, then MDMGW_* variables, then flags.
mdmgw::Result<GatewayConfig> LoadConfig(const std::string& config_file, const FlagValues& flags) {
  GatewayConfig config;
  std::string file = config_file;
  if (file.empty()) {
    if (const char* env = GetEnv("MDMGW_CONFIG")) file = env;
  }
  if (file.empty() && std::filesystem::exists("mdm-gateway.toml")) file = "mdm-gateway.toml";
  if (!file.empty()) MDMGW_RETURN_IF_ERROR(mdmgw::ApplyTomlFile(config, file));
  MDMGW_RETURN_IF_ERROR(mdmgw::ApplyEnvironment(config, GetEnv));
  for (const auto& opt : mdmgw::ConfigOptions()) {
    auto it = flags.find(opt.flag);
    if (opt.flag.empty() || it == flags.end() || !it->second) continue;
    Status s = opt.set(config, *it->second);
    if (!s.ok()) return Status::InvalidArgument(opt.flag + ": " + s.message(), "bad_config");
  }
  MDMGW_RETURN_IF_ERROR(mdmgw::Validate(config));
  mdmgw::log::Level level;
  if (!mdmgw::log::ParseLevel(config.log.level, &level)) {
    return Status::InvalidArgument(
        "log level '" + config.log.level + "' is not debug, info, warn, error or off",
        "bad_config");
  }
  mdmgw::log::SetLevel(level);
  return config;
}

int Fail(const Status& status, int code = 1) {
  std::cerr << "mdm-gateway: error: " << status.message() << "\n";
  return code;
}

int RunServe(const GatewayConfig& config) {
  auto app = mdmgw::gateway::GatewayApp::Create(config, GetEnv);
  if (!app.ok()) return Fail(app.status());
  Status s = app.value()->Start();
  if (!s.ok()) return Fail(s);
  app.value()->RunUntilSignal();
  return 0;
}

int RunMigrate(const GatewayConfig& config) {
  auto store = mdmgw::gateway::OpenConfiguredStore(config);
  if (!store.ok()) return Fail(store.status());
  auto version = store.value()->SchemaVersion();
  if (!version.ok()) return Fail(version.status());
  std::cout << "schema version " << *version << " (" << store.value()->backend() << ")\n";
  return 0;
}

// Commands that change the local store directly are audited like admin API calls, with the
// operating-system user as the actor (the API key is what they bypass).
void AuditCli(mdmgw::store::Store& store, const std::string& what, const Status& outcome) {
  mdmgw::store::AuditRecord r;
  r.at = mdmgw::Clock::System().NowUnixSeconds();
  r.actor_id = "cli";
  const char* user = GetEnv("SUDO_USER");
  if (user == nullptr) user = GetEnv("USER");
  r.actor = user != nullptr ? user : "unknown";
  r.method = "CLI";
  r.path = what;
  r.route = what;
  r.status = outcome.ok() ? 200 : mdmgw::gateway::HttpStatusFor(outcome.code());
  if (!outcome.ok()) r.error = outcome.reason().empty() ? "error" : outcome.reason();
  Status s = store.RecordAudit(r);
  if (!s.ok())
    std::cerr << "mdm-gateway: warning: audit log write failed: " << s.ToString() << "\n";
}

int RunApiKeyCreate(const GatewayConfig& config, const std::string& name,
                    const std::string& scope) {
  auto store = mdmgw::gateway::OpenConfiguredStore(config);
  if (!store.ok()) return Fail(store.status());
  mdmgw::gateway::ApiKeys keys(store.value()->api_keys(), mdmgw::Clock::System());
  auto created = keys.Create(name, scope);
  AuditCli(*store.value(), "apikey create " + name, created.status());
  if (!created.ok()) return Fail(created.status());
  std::cout << "created " << created->record.scope << " API key '" << created->record.name
            << "' (id " << created->record.id << "); it is shown only this once:\n"
            << created->key.Expose() << std::endl;
  return 0;
}

int RunRotateMasterKey(const GatewayConfig& config, const std::string& new_key_file) {
  auto store = mdmgw::gateway::OpenConfiguredStore(config);
  if (!store.ok()) return Fail(store.status());
  const char* env_key = GetEnv("MDMGW_MASTER_KEY");
  std::cerr << "mdm-gateway: re-sealing every secret with a new master key; every gateway on "
               "this store must be stopped\n";
  auto rotated = mdmgw::gateway::RotateMasterKey(
      *store.value(), config.data_dir, env_key ? env_key : "", new_key_file,
      [](int64_t done) { std::cerr << "  " << done << " values re-sealed\n"; });
  AuditCli(*store.value(), "rotate-master-key", rotated.status());
  if (!rotated.ok()) return Fail(rotated.status());
  std::cout << "re-sealed " << rotated->resealed << " secrets; the master key is now in "
            << rotated->key_origin << "\n";
  if (env_key != nullptr && *env_key != '\0') {
    std::cout << "set MDMGW_MASTER_KEY to the contents of " << rotated->key_origin
              << " before starting the gateway\n";
  }
  return 0;
}

int RunApiKeyList(const GatewayConfig& config) {
  auto store = mdmgw::gateway::OpenConfiguredStore(config);
  if (!store.ok()) return Fail(store.status());
  auto keys = store.value()->ListApiKeys();
  if (!keys.ok()) return Fail(keys.status());
  for (const auto& k : *keys) {
    std::cout << k.id << "\t" << k.name << "\t" << k.scope << "\t"
              << (k.revoked_at ? "revoked" : "active") << "\n";
  }
  return 0;
}

int RunApiKeyRevoke(const GatewayConfig& config, const std::string& name_or_id) {
  auto store = mdmgw::gateway::OpenConfiguredStore(config);
  if (!store.ok()) return Fail(store.status());
  Status s = store.value()->RevokeApiKey(name_or_id, mdmgw::Clock::System().NowUnixSeconds());
  AuditCli(*store.value(), "apikey revoke " + name_or_id, s);
  if (!s.ok()) return Fail(s);
  std::cout << "revoked API key '" << name_or_id << "'\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that vanishes mid-write must cost one connection, never the process.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "mdm-gateway: Apple device enrollment gateway (APNs, ADE/DEP, Configurator, check-in)"};
  app.require_subcommand(1);
  std::string config_file;
  app.add_option(
      "--config", config_file,
      "TOML configuration file (default: $MDMGW_CONFIG, else ./mdm-gateway.toml if present)");

  FlagValues serve_flags;
  auto* serve = app.add_subcommand("serve", "run the gateway (TLS h2 + HTTP/1.1)");
  AddConfigFlags(serve, config_file, serve_flags);
  serve->footer(
      "Environment: MDMGW_MASTER_KEY (base64 of 32 bytes) overrides <data-dir>/master.key.");

  const std::vector<std::string> store_flags_only = {"--data-dir", "--store", "--log-level"};
  FlagValues migrate_flags;
  auto* migrate =
      app.add_subcommand("migrate", "apply database migrations and print the schema version");
  AddConfigFlags(migrate, config_file, migrate_flags, store_flags_only);

  FlagValues rotate_flags;
  std::string new_key_file;
  auto* rotate = app.add_subcommand(
      "rotate-master-key",
      "re-seal every stored secret with a new master key (stop every gateway on the store first)");
  rotate->add_option("--new-key-file", new_key_file,
                     "the new key (base64 of 32 bytes, mode 0600); default: a new random key. "
                     "Required when MDMGW_MASTER_KEY holds the current key");
  AddConfigFlags(rotate, config_file, rotate_flags, store_flags_only);

  auto* apikey = app.add_subcommand("apikey", "manage admin API keys");
  apikey->require_subcommand(1);
  FlagValues create_flags;
  std::string key_name;
  auto* create =
      apikey->add_subcommand("create", "create a key; prints it once, alone on the last line");
  create->add_option("--name", key_name, "a unique name for the key")->required();
  std::string key_scope = "admin";
  create->add_option("--scope", key_scope, "admin (everything) or read (GET/HEAD only)")
      ->check(CLI::IsMember({"admin", "read"}))
      ->default_str("admin");
  AddConfigFlags(create, config_file, create_flags, store_flags_only);
  FlagValues list_flags;
  auto* list = apikey->add_subcommand("list", "list keys (id, name, state)");
  AddConfigFlags(list, config_file, list_flags, store_flags_only);
  FlagValues revoke_flags;
  std::string revoke_target;
  auto* revoke = apikey->add_subcommand("revoke", "revoke a key by name or id");
  revoke->add_option("key", revoke_target, "name or id")->required();
  AddConfigFlags(revoke, config_file, revoke_flags, store_flags_only);

  // apns, devices, routing, dep, profiles: the admin API of a running gateway.
  mdmgw::gateway::cli::AdminCli admin(app);

  // With a server named (--server or MDMGW_SERVER_URL) the apikey commands go over the admin API;
  // otherwise they write the local store (how the first key is made).
  mdmgw::gateway::cli::AdminTargetFlags remote;
  bool remote_json = false;
  for (CLI::App* cmd : {create, list, revoke}) {
    cmd->add_option("--server", remote.server_url,
                    "manage keys of this running gateway over its admin API (env "
                    "MDMGW_SERVER_URL) instead of the local store");
    cmd->add_option("--api-key", remote.api_key, "with --server: an admin key (env MDMGW_API_KEY)");
    cmd->add_option("--ca-file", remote.ca_file, "with --server: its TLS CA (env MDMGW_CA_FILE)");
    cmd->add_option("--cli-config", remote.config_file, "with --server: the CLI config file");
    cmd->add_flag("--json", remote_json, "with --server: print the gateway's JSON");
  }

  mdmgw::gateway::demo::DemoOptions demo_options;
  auto* demo = app.add_subcommand(
      "demo",
      "the whole story on embedded defaults: simulators of APNs, DEP, devices and the core MDM as "
      "child processes, a gateway on SQLite, seven steps, then the gateway keeps running");
  demo->add_option("--data-dir", demo_options.data_dir,
                   "the demo's own data directory, emptied each run (default: ./var/demo)");
  demo->add_option("--listen", demo_options.listen,
                   "the gateway's address (default: 127.0.0.1:8443)");
  demo->add_option("--devices", demo_options.dep_devices,
                   "devices in the simulated Apple Business Manager organisation (default: 5000)");
  demo->add_option("--devices-per-method", demo_options.devices_per_method,
                   "devices enrolled by each of dep, usb-sa, usb-direct, ota (default: 2)");
  demo->add_flag("--exit", demo_options.exit_when_done, "stop everything after the summary");
  demo->add_flag("--setup-only", demo_options.setup_only,
                 "start the simulators and the gateway, print them as one JSON line, run no step");
  demo->add_option(
      "--sim-dir", demo_options.sim_dir,
      "where the simulator programs are (default: $MDMGW_SIM_DIR, else the build tree)");
  demo->add_option("--log-level", demo_options.log_level,
                   "the gateway's own log lines on stderr (default: warn)");

  app.add_subcommand("version", "print the version")->callback([] {
    std::cout << "mdm-gateway 0.1.0\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help is exit 0; every usage error is 2 (the documented code), not CLI11's own numbers.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  auto with_config = [&](const FlagValues& flags, auto run) -> int {
    auto config = LoadConfig(config_file, flags);
    if (!config.ok()) return Fail(config.status(), 2);
    return run(config.value());
  };
  if (admin.parsed()) return admin.Run(GetEnv, std::cout, std::cerr);
  if (demo->parsed()) return mdmgw::gateway::demo::RunDemo(demo_options, std::cout);
  if (serve->parsed()) return with_config(serve_flags, RunServe);
  if (migrate->parsed()) return with_config(migrate_flags, RunMigrate);
  if (rotate->parsed()) {
    return with_config(rotate_flags,
                       [&](const GatewayConfig& c) { return RunRotateMasterKey(c, new_key_file); });
  }
  bool over_api = !remote.server_url.empty() || GetEnv("MDMGW_SERVER_URL") != nullptr;
  if (over_api && (create->parsed() || list->parsed() || revoke->parsed())) {
    std::string action = create->parsed() ? "create" : list->parsed() ? "list" : "revoke";
    std::string arg = create->parsed() ? key_name : revoke_target;
    return mdmgw::gateway::cli::RunApiKeyCommand(action, arg, key_scope, remote, remote_json,
                                                 GetEnv, std::cout, std::cerr);
  }
  if (create->parsed()) {
    return with_config(create_flags, [&](const GatewayConfig& c) {
      return RunApiKeyCreate(c, key_name, key_scope);
    });
  }
  if (list->parsed()) return with_config(list_flags, RunApiKeyList);
  if (revoke->parsed()) {
    return with_config(revoke_flags,
                       [&](const GatewayConfig& c) { return RunApiKeyRevoke(c, revoke_target); });
  }
  return 0;
}

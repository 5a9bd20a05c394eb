// AdminCli: `mdm-gateway apns|dep|profiles|devices|routing ...` — the admin API from a shell.
//
// Each command is one or two admin API calls to a running gateway (AdminTarget says which, with
// which key). Output is a human table or key/value list by default; --json prints the gateway's
// JSON unchanged, for scripts. Exit codes:
//   0  done;
//   1  the gateway refused the request (4xx: its error code and message go to stderr), or a
//      command's own outcome was a failure (a push not delivered, a serial not assigned);
//   2  bad usage or CLI configuration (no API key, unreadable file, bad flag);
//   3  the gateway could not be reached, or failed (5xx).
// Secrets: the API key only ever travels in the Authorization header; uploaded keys and tokens
// are read from files and never echoed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <memory>

#include "gateway/cli/admin_target.h"

namespace mdmgw::gateway::cli {

class AdminSession;

class AdminCli {
 public:
  // Registers the admin command groups on |app|.
  explicit AdminCli(CLI::App& app);
  ~AdminCli();
  // True when one of its commands was on the command line (after parsing).
  bool parsed() const { return static_cast<bool>(selected_); }
  // Runs the parsed command; returns the exit code.
  int Run(const GetEnvFn& env, std::ostream& out, std::ostream& err);

 private:
  using Command = std::function<int(AdminSession&)>;
  // A leaf command under |group|: |fn| runs when it was chosen.
  CLI::App* Leaf(CLI::App* group, const std::string& name, const std::string& help, Command fn);
  CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help);

  AdminTargetFlags flags_;
  bool json_ = false;
  Command selected_;
};

// `mdm-gateway apikey create NAME | list | revoke NAME_OR_ID` over the admin API (main.cc takes
// this path when a server is named by --server or MDMGW_SERVER_URL; otherwise it writes the local
// store). |action| is "create", "list" or "revoke"; |scope| ("admin" or "read") is for create; a
// created key is printed alone on the last line.
int RunApiKeyCommand(const std::string& action, const std::string& arg, const std::string& scope,
                     const AdminTargetFlags& flags, bool json, const GetEnvFn& env,
                     std::ostream& out, std::ostream& err);

}  // namespace mdmgw::gateway::cli

// `mdm-gateway demo`: the whole story on embedded defaults. It starts the simulators of Apple's
// services and the core MDM as child processes on loopback (apns-sim, dep-sim, mdm-core-stub;
// device-sim for each device), runs the gateway in this process on SQLite in its own data
// directory, and drives it only through its admin API and its device endpoints, as an admin and
// as devices would:
//   1. an admin key; a push certificate from apns-sim's test vendor, uploaded (topic, expiry)
//   2. a DEP server, its exchange certificate, a .p7m token dep-sim issues for it, uploaded
//   3. a sync (5,000 devices by default) with a progress line; a default DEP profile, assigned
//   4. enrollment profiles for dep, usb-sa, usb-direct and ota; the Configurator exports written
//   5. devices enrolled by each method (signed MachineInfo, Authenticate, TokenUpdate) and
//      forwarded to the core stub
//   6. pushes through apns-sim; each device wakes and checks in (Idle → /mdm/connect)
//   7. a summary table; the gateway stays up (unless --exit) with its URL and the admin key.
// Every step prints one line; a failing step says which and why, and the run exits 1.
#pragma once

#include <iosfwd>
#include <string>

namespace mdmgw::gateway::demo {

struct DemoOptions {
  // The demo's own data directory, emptied at start when an earlier demo left it (a directory
  // holding anything else is refused). Default: ./var/demo.
  std::string data_dir = "./var/demo";
  std::string listen = "127.0.0.1:8443";
  int dep_devices = 5000;          // devices in the simulated Apple Business Manager organisation
  int devices_per_method = 2;      // enrolled with each of dep, usb-sa, usb-direct, ota
  bool exit_when_done = false;     // --exit: stop everything after the summary
  std::string sim_dir;             // where the simulator programs are (see FindSimulators)
  std::string log_level = "warn";  // the gateway's own log lines (stderr)
  // --setup-only: start the simulators and the gateway, make an admin key, print one JSON line
  // describing them ("demo-setup: {...}", for the console's browser tests and for trying the
  // console by hand), run none of the steps, and serve until SIGINT/SIGTERM.
  bool setup_only = false;
};

// Runs the walk-through; 0 when every step worked (and, without --exit, after SIGINT/SIGTERM),
// 1 when a step failed, 2 for bad options.
int RunDemo(const DemoOptions& options, std::ostream& out);

}  // namespace mdmgw::gateway::demo

// The simulators `mdm-gateway demo` runs beside the gateway (apns-sim, dep-sim, device-sim,
// mdm-core-stub): where their programs are, and running them as child processes on loopback.
// The demo talks to them only over their real wire formats, as the gateway does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"

namespace mdmgw::gateway::demo {

struct SimulatorPaths {
  std::string apns_sim, dep_sim, device_sim, core_stub;
};

// Looks in |sim_dir| (when given), then $MDMGW_SIM_DIR, then the build tree beside this executable
// (<exe dir>/../fixtures), then the build tree this binary was built in. Each place may hold
// <name>/<name> (a build tree) or <name> (an install). NotFound names the places looked at.
Result<SimulatorPaths> FindSimulators(const std::string& sim_dir);

// A simulator that printed {"listening":<port>} on its first stdout line.
struct RunningSimulator {
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// Starts |argv| with stderr to |log_file|; Unavailable (with the log's last line) when it does not
// report a port within 15 s.
Result<RunningSimulator> StartSimulator(const std::vector<std::string>& argv,
                                        const std::string& log_file);

// A tool run to completion (device-sim, the simulators' certificate modes).
struct ToolRun {
  int exit_status = -1;  // -1: did not finish in time, or ended by a signal
  std::string out;       // its stdout
};
ToolRun RunTool(const std::vector<std::string>& argv, const std::string& log_file,
                std::chrono::seconds timeout = std::chrono::seconds(60));

// The last non-empty line of |file| ("" when none), for "why did it fail" messages.
std::string LastLine(const std::string& file);

}  // namespace mdmgw::gateway::demo

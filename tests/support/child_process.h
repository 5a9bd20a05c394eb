// The simulators started as real processes by tests (common/ChildProcess), and small process
// helpers.
#pragma once

#include "common/child_process.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mdmgw::testing {

using mdmgw::ChildProcess;  // common/child_process.h

// Starts apns-sim (built beside the tests) with |extra_args| and returns its port (0 on failure).
struct ApnsSimProcess {
  ApnsSimProcess(const std::string& cert_file, const std::string& key_file,
                 const std::vector<std::string>& extra_args = {}, uint16_t port = 0);
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// Starts dep-sim (built beside the tests) with |extra_args| and returns its port (0 on failure).
struct DepSimProcess {
  DepSimProcess(const std::string& cert_file, const std::string& key_file,
                const std::vector<std::string>& extra_args = {});
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// Starts mdm-core-stub (built beside the tests) with |extra_args|; port 0 on failure.
struct CoreStubProcess {
  explicit CoreStubProcess(const std::vector<std::string>& extra_args = {});
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// Runs |command| with /bin/sh; its stdout and exit status (-1 when it could not run).
struct CommandResult {
  int exit_status = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& command);

// A TCP port that was free a moment ago (bind to 0, read, close).
uint16_t FreeTcpPort();

}  // namespace mdmgw::testing

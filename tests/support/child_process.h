// ChildProcess: a real program started by a test (a simulator), with its first stdout line read
// (simulators print {"listening":<port>} there) and SIGTERM + wait on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mdmgw::testing {

class ChildProcess {
 public:
  // Starts |argv[0]| with |argv|; stderr goes to |stderr_file| when given, else inherited.
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_file = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first line the child writes to stdout ("" on timeout or exit).
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGTERM, then SIGKILL after |grace|; returns the exit status (or -1).
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

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

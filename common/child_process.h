// ChildProcess: a program run as a child (the simulators, for tests and `mdm-gateway demo`), with
// its stdout read line by line (simulators print {"listening":<port>} first) and SIGTERM + wait on
// destruction. The child gets SIGKILL if its parent dies, so a crashed parent leaves nothing
// behind.
//
// Thread-safety: one thread per object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace mdmgw {

class ChildProcess {
 public:
  // Starts |argv[0]| (a path) with |argv|; stderr goes to |stderr_file| when given, else inherited.
  // When the program cannot be run, ok() is false (and the child, if any, exits 127).
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_file = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool ok() const { return pid_ > 0; }
  // The next line the child writes to stdout ("" on timeout or end of output).
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything left on stdout until the child closes it (or |timeout|).
  std::string ReadToEnd(std::chrono::milliseconds timeout);
  // Waits for the child to exit by itself; its exit status, or -1 (killed after |timeout|, or
  // ended by a signal).
  int Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after |grace|; returns the exit status (or -1).
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  pid_t pid() const { return pid_; }

 private:
  int Reap(std::chrono::milliseconds grace, bool terminate);
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace mdmgw

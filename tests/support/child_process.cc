#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <unistd.h>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace mdmgw::testing {

ApnsSimProcess::ApnsSimProcess(const std::string& cert_file, const std::string& key_file,
                               const std::vector<std::string>& extra_args, uint16_t want_port) {
  std::vector<std::string> argv = {MDMGW_APNS_SIM_PATH,
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(want_port),
                                   "--cert",
                                   cert_file,
                                   "--key",
                                   key_file};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<ChildProcess>(argv);
  auto doc = nlohmann::json::parse(process->ReadLine(), nullptr, false);
  if (doc.is_object() && doc.contains("listening")) port = doc["listening"].get<uint16_t>();
}

CoreStubProcess::CoreStubProcess(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {MDMGW_CORE_STUB_PATH, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<ChildProcess>(argv);
  auto doc = nlohmann::json::parse(process->ReadLine(), nullptr, false);
  if (doc.is_object() && doc.contains("listening")) port = doc["listening"].get<uint16_t>();
}

DepSimProcess::DepSimProcess(const std::string& cert_file, const std::string& key_file,
                             const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {MDMGW_DEP_SIM_PATH, "--listen", "127.0.0.1:0", "--cert",
                                   cert_file,          "--key",    key_file};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<ChildProcess>(argv);
  auto doc = nlohmann::json::parse(process->ReadLine(), nullptr, false);
  if (doc.is_object() && doc.contains("listening")) port = doc["listening"].get<uint16_t>();
}

uint16_t FreeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int rc = ::pclose(p);
  r.exit_status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

}  // namespace mdmgw::testing

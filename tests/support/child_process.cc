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

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_file) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed or killed test
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    if (!stderr_file.empty()) {
      int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  stdout_fd_ = pipefd[0];
}

ChildProcess::~ChildProcess() {
  Stop();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

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

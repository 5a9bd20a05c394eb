#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace mdmgw::testing {
namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string Run(const std::string& command, int* rc) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    *rc = -1;
    return "popen failed";
  }
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), pipe) != nullptr) out += buf.data();
  *rc = ::pclose(pipe);
  return out;
}

}  // namespace

std::string PostgresServer::FindBinDir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> candidates;
  if (fs::is_directory("/usr/lib/postgresql", ec)) {
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      fs::path bin = entry.path() / "bin";
      if (fs::exists(bin / "initdb", ec) && fs::exists(bin / "pg_ctl", ec))
        candidates.push_back(bin.string());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.empty() ? "" : candidates.back();
}

std::string PostgresServer::RunAsOwner(const std::string& command) const {
  int rc = 0;
  std::string full = as_postgres_user_ ? "runuser -u postgres -- " + command : command;
  std::string out = Run(full, &rc);
  return rc == 0 ? "" : (out.empty() ? "exit " + std::to_string(rc) : out);
}

PostgresServer::PostgresServer() {
  bin_dir_ = FindBinDir();
  if (bin_dir_.empty()) {
    error_ = "PostgreSQL server binaries not found under /usr/lib/postgresql";
    return;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "mdmgw-pg-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      error_ = "running as root and no 'postgres' user exists";
      return;
    }
    as_postgres_user_ = true;
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "cannot chown " + dir_;
      return;
    }
  }
  std::string data = dir_ + "/data";
  std::string err =
      RunAsOwner(bin_dir_ + "/initdb -D " + data + " -A trust -U postgres --no-sync -E UTF8");
  if (!err.empty()) {
    error_ = "initdb failed: " + err;
    return;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreePort();
    err = RunAsOwner(bin_dir_ + "/pg_ctl -D " + data + " -l " + dir_ +
                     "/server.log -w -t 30 -o \"-p " + std::to_string(port_) + " -k " + dir_ +
                     " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                     " -c full_page_writes=off\" start");
    if (err.empty()) {
      url_ = "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
      return;
    }
  }
  error_ = "pg_ctl start failed: " + err;
}

PostgresServer::~PostgresServer() {
  if (!url_.empty()) {
    RunAsOwner(bin_dir_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop");
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PostgresServer::CreateDatabase(const std::string& name) {
  PGconn* conn = PQconnectdb(url_.c_str());
  std::string sql = "CREATE DATABASE \"" + name + "\"";
  PGresult* res = PQexec(conn, sql.c_str());
  PQclear(res);
  PQfinish(conn);
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

PostgresServer& SharedPostgres() {
  // Destroyed at exit, which stops the server.
  static PostgresServer server;
  return server;
}

}  // namespace mdmgw::testing

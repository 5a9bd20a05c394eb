#include "tests/support/gateway_process.h"

#include <signal.h>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <sstream>
#include <thread>

#include "tests/support/postgres_server.h"

namespace mdmgw::testing {

std::optional<std::string> StoreUrlForBackend(const std::string& backend, const std::string& name) {
  if (backend != "postgres") return std::string();
  auto& pg = SharedPostgres();
  if (!pg.running()) return std::nullopt;
  static std::atomic<int> n{0};
  return pg.CreateDatabase(name + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
}

std::string CreateAdminKeyWithCli(const std::string& binary, const std::string& data_dir,
                                  const std::string& store_url) {
  std::string cmd = binary + " apikey create --name admin --data-dir " + data_dir +
                    (store_url.empty() ? "" : " --store " + store_url) + " 2>/dev/null";
  auto created = RunCommand(cmd);
  if (created.exit_status != 0) return "";
  std::string out = created.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  size_t nl = out.rfind('\n');
  std::string key = out.substr(nl == std::string::npos ? 0 : nl + 1);
  return key.rfind("mdmgw_", 0) == 0 ? key : "";
}

bool DeviceSimTokenUpdateAcknowledged(const std::string& device_sim, uint16_t port,
                                      const std::string& cert_file, const std::string& key_file,
                                      const std::string& topic, const std::string& ca_file,
                                      const std::string& udid, const std::string& serial) {
  std::string run = device_sim + " checkin --server https://localhost:" + std::to_string(port) +
                    " --identity-cert " + cert_file + " --identity-key " + key_file + " --topic " +
                    topic + " --ca " + ca_file + " --udid " + udid + " --serial " + serial +
                    " --messages authenticate,tokenupdate 2>/dev/null";
  std::istringstream lines(RunCommand(run).out);
  std::string line;
  bool acknowledged = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("message", "") == "TokenUpdate" && j.value("status", 0) == 200)
      acknowledged = true;
  }
  return acknowledged;
}

GatewayProcess::GatewayProcess(const std::string& binary, const std::vector<std::string>& flags,
                               const std::string& log_file, std::chrono::milliseconds wait,
                               uint16_t port) {
  port_ = port != 0 ? port : FreeTcpPort();
  std::vector<std::string> args{binary, "serve", "--listen", "127.0.0.1:" + std::to_string(port_)};
  args.insert(args.end(), flags.begin(), flags.end());
  process_ = std::make_unique<ChildProcess>(args, log_file);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (H2Get(port_, "/healthz").status == 200) {
      started_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

GatewayProcess::~GatewayProcess() { Stop(); }

void GatewayProcess::Kill() {
  if (!process_) return;
  ::kill(process_->pid(), SIGKILL);
  process_->Stop(std::chrono::seconds(1));
  process_.reset();
}

void GatewayProcess::Stop() {
  if (!process_) return;
  process_->Stop();
  process_.reset();
}

H2TestClient::Stream GatewayProcess::Call(const std::string& key, const std::string& method,
                                          const std::string& path, const std::string& body,
                                          std::chrono::milliseconds timeout,
                                          const std::string& content_type) const {
  return H2Request(port_, method, path,
                   {{"authorization", "Bearer " + key}, {"content-type", content_type}}, body,
                   timeout);
}

}  // namespace mdmgw::testing

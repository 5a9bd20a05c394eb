#include "gateway/demo/demo.h"

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/crypto/self_signed.h"
#include "common/encoding.h"
#include "common/log.h"
#include "gateway/api_keys.h"
#include "gateway/demo/demo_simulators.h"
#include "gateway/gateway_app.h"
#include "net/h1_client.h"

namespace mdmgw::gateway::demo {
namespace fs = std::filesystem;
namespace {

constexpr int kSteps = 7;
constexpr const char* kMarker = ".mdm-gateway-demo";  // names a directory the demo may empty
constexpr const char* kDepServer = "demo";

// The methods enrolled in step 5, in table order.
const std::vector<std::string> kMethods = {"dep", "usb-sa", "usb-direct", "ota"};

// Tolerant readers of the JSON answers: a missing or differently typed field gives |def|
// (nlohmann's value() throws on a type mismatch, and one odd field must not abort the demo).
std::string Str(const nlohmann::json& j, const char* key, std::string def = "") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return def;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}
long long Num(const nlohmann::json& j, const char* key, long long def = 0) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return def;
  return j[key].get<long long>();
}
bool Flag(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

struct Reply {
  int status = 0;
  std::string body;
  nlohmann::json json;  // null unless the body was JSON
};

// A JSON error body's message, else the start of the body.
std::string WhyOf(const Reply& r) {
  if (r.json.is_object() && r.json.contains("error") && r.json["error"].is_object())
    return Str(r.json["error"], "message", r.json["error"].dump());
  return r.body.substr(0, 200);
}

std::string DeviceSimError(const std::string& out) {
  // device-sim prints one JSON line per message; the first with an error or a non-2xx status.
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("error")) return j["error"].dump();
    int status = static_cast<int>(Num(j, "status", 200));
    if (status < 200 || status > 299)
      return Str(j, "message", std::string("answer")) + " got HTTP " + std::to_string(status);
  }
  return out.substr(0, 200);
}

// A random topic in Apple's form: com.apple.mgmt.External.<uuid>.
std::string NewTopic() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  char buf[64];
  uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(b >> 52),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return std::string("com.apple.mgmt.External.") + buf;
}

struct EnrolledDevice {
  std::string method, udid, serial, profile_file;
  bool enrolled = false, pushed = false, woke = false;
};

class Walkthrough {
 public:
  Walkthrough(const DemoOptions& options, std::ostream& out) : o_(options), out_(out) {}
  ~Walkthrough() { StopAll(); }

  int Run();

 private:
  // Step bodies: OK with the line to print, or the reason the step failed.
  Status Prepare(std::string* line);
  Status StepPushCertificate(std::string* line);
  Status StepDepToken(std::string* line);
  Status StepSyncAndAssign(std::string* line);
  Status StepEnrollmentProfiles(std::string* line);
  Status StepEnrollDevices(std::string* line);
  Status StepPushAndWake(std::string* line);
  void PrintSummary();

  Result<Reply> Api(const std::string& method, const std::string& path, std::string body = "",
                    const std::string& content_type = "application/json");
  Result<Reply> Expect(const std::string& method, const std::string& path, std::string body = "",
                       const std::string& content_type = "application/json");
  Result<std::string> CreateProfile(const std::string& name, const std::string& method);
  // device-sim with |args|; its stdout, or why it failed.
  Result<std::string> DeviceSim(std::vector<std::string> args);
  Status CheckIn(const EnrolledDevice& d, const std::string& messages);
  // Requests the core stub recorded of one kind: "checkin" (PUT /mdm/checkin) or "command"
  // (the command channel, PUT /mdm/connect) — told apart by content type, as NanoMDM does.
  Result<int> CoreRequests(const std::string& kind);
  int SetupOnly();
  void StopAll();

  const DemoOptions& o_;
  std::ostream& out_;
  fs::path dir_;
  SimulatorPaths sims_;
  std::string sim_tls_cert_, sim_tls_key_;
  std::string push_cert_, push_key_, push_vendor_ca_;
  std::vector<std::pair<std::string, std::string>> device_identities_;  // cert, key files
  RunningSimulator apns_, dep_, core_;
  std::unique_ptr<GatewayApp> app_;
  std::unique_ptr<net::H1Client> http_;  // to the gateway, trusting its TLS certificate
  std::unique_ptr<net::H1Client>
      sim_http_;      // to the simulators (push vendor identity for apns-sim)
  std::string base_;  // https://127.0.0.1:<port>
  std::string api_key_;
  std::string topic_;
  std::map<std::string, std::string> profile_ids_;  // method -> enrollment profile id
  std::vector<std::string> exports_;
  std::vector<EnrolledDevice> devices_;
  int synced_ = 0, assigned_ = 0, pushes_delivered_ = 0, forwarded_ = 0;
};

int Walkthrough::Run() {
  std::string line;
  if (Status s = Prepare(&line); !s.ok()) {
    out_ << "demo: cannot start: " << s.message() << std::endl;
    return 1;
  }
  out_ << line << std::endl;
  if (o_.setup_only) return SetupOnly();
  using StepFn = Status (Walkthrough::*)(std::string*);
  const std::vector<std::pair<const char*, StepFn>> steps = {
      {"push certificate", &Walkthrough::StepPushCertificate},
      {"DEP token", &Walkthrough::StepDepToken},
      {"DEP sync and assignment", &Walkthrough::StepSyncAndAssign},
      {"enrollment profiles and exports", &Walkthrough::StepEnrollmentProfiles},
      {"device enrollment", &Walkthrough::StepEnrollDevices},
      {"push and wake", &Walkthrough::StepPushAndWake}};
  for (size_t i = 0; i < steps.size(); ++i) {
    line.clear();
    Status s = (this->*steps[i].second)(&line);
    if (!s.ok()) {
      out_ << "[" << i + 1 << "/" << kSteps << "] FAILED (" << steps[i].first
           << "): " << s.message() << std::endl;
      out_ << "demo: logs of the gateway's helpers are in " << (dir_ / "logs").string()
           << std::endl;
      return 1;
    }
    out_ << "[" << i + 1 << "/" << kSteps << "] " << line << std::endl;
  }
  PrintSummary();
  if (o_.exit_when_done) {
    StopAll();
    out_ << "demo: stopped (--exit)" << std::endl;
    return 0;
  }
  app_->RunUntilSignal();  // Ctrl-C: the gateway drains, then the simulators are stopped
  StopAll();
  return 0;
}

int Walkthrough::SetupOnly() {
  auto key = app_->api_keys().Create("demo-admin");
  if (!key.ok()) {
    out_ << "demo: cannot start: " << key.status().message() << std::endl;
    StopAll();
    return 1;
  }
  nlohmann::json identities = nlohmann::json::array();
  for (const auto& [cert, key_file] : device_identities_)
    identities.push_back({{"cert_file", cert}, {"key_file", key_file}});
  nlohmann::json setup = {{"gateway_url", base_},
                          {"console_url", base_ + "/console/"},
                          {"gateway_ca_file", app_->tls_cert_file()},
                          {"admin_key", key->key.Expose()},
                          {"topic", topic_},
                          {"push_cert_file", push_cert_},
                          {"push_key_file", push_key_},
                          {"sim_ca_file", sim_tls_cert_},
                          {"apns_sim_url", "https://localhost:" + std::to_string(apns_.port)},
                          {"dep_sim_url", "https://localhost:" + std::to_string(dep_.port)},
                          {"core_stub_url", "http://127.0.0.1:" + std::to_string(core_.port)},
                          {"apns_sim", sims_.apns_sim},
                          {"device_sim", sims_.device_sim},
                          {"device_identities", identities},
                          {"data_dir", dir_.string()}};
  out_ << "demo-setup: " << setup.dump() << std::endl;
  app_->RunUntilSignal();
  StopAll();
  return 0;
}

Status Walkthrough::Prepare(std::string* line) {
  if (o_.dep_devices < 1 || o_.dep_devices > 1000000)
    return Status::InvalidArgument("--devices must be 1 to 1000000");
  if (o_.devices_per_method < 1 || o_.devices_per_method > 50)
    return Status::InvalidArgument("--devices-per-method must be 1 to 50");
  auto sims = FindSimulators(o_.sim_dir);
  if (!sims.ok()) return sims.status();
  sims_ = *sims;

  // A fresh data directory each run: an earlier demo's is emptied, anything else is refused.
  dir_ = fs::absolute(o_.data_dir).lexically_normal();
  std::error_code ec;
  if (fs::exists(dir_, ec)) {
    bool empty =
        fs::is_directory(dir_, ec) && fs::directory_iterator(dir_, ec) == fs::directory_iterator();
    if (!empty && !fs::exists(dir_ / kMarker, ec)) {
      return Status::FailedPrecondition(dir_.string() +
                                        " exists and was not made by the demo; give another "
                                        "--data-dir (the demo empties its directory each run)");
    }
    fs::remove_all(dir_, ec);
    if (ec) return Status::Unavailable("cannot empty " + dir_.string() + ": " + ec.message());
  }
  for (const char* sub : {"", "logs", "sims", "exports", "devices"}) {
    fs::create_directories(dir_ / sub, ec);
    if (ec)
      return Status::Unavailable("cannot create " + (dir_ / sub).string() + ": " + ec.message());
  }
  fs::permissions(dir_, fs::perms::owner_all, ec);
  std::ofstream(dir_ / kMarker) << "made by mdm-gateway demo; emptied by the next demo run\n";
  std::string logs = (dir_ / "logs").string();

  // The simulators' own TLS certificate (one self-signed pair; the gateway trusts it as their CA).
  auto tls = crypto::GenerateSelfSignedServerCertificate({"localhost"}, 30);
  if (!tls.ok()) return tls.status();
  sim_tls_cert_ = (dir_ / "sims" / "tls.crt").string();
  sim_tls_key_ = (dir_ / "sims" / "tls.key").string();
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(sim_tls_cert_, tls->cert_pem, 0644));
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(sim_tls_key_, tls->key_pem.Expose(), 0600));

  // apns-sim's test vendor issues the push certificate; apns-sim then trusts only that vendor.
  topic_ = NewTopic();
  std::string vendor_dir = (dir_ / "sims" / "push-vendor").string();
  ToolRun issued = RunTool({sims_.apns_sim, "--issue-push-cert", vendor_dir, "--topic", topic_},
                           logs + "/apns-sim-vendor.log");
  auto vendor = nlohmann::json::parse(issued.out, nullptr, false);
  if (issued.exit_status != 0 || !vendor.is_object())
    return Status::Unavailable("apns-sim could not issue a push certificate: " +
                               LastLine(logs + "/apns-sim-vendor.log"));
  push_cert_ = Str(vendor, "cert_file");
  push_key_ = Str(vendor, "key_file");
  push_vendor_ca_ = Str(vendor, "ca_file");

  // device-sim's device CA stands in for Apple's device attestation (MachineInfo signers).
  int identities = 2 * o_.devices_per_method;  // dep and usb-sa devices sign MachineInfo
  ToolRun made =
      RunTool({sims_.device_sim, "identities", "--dir", (dir_ / "sims" / "devices").string(),
               "--count", std::to_string(identities)},
              logs + "/device-sim-identities.log");
  auto ids = nlohmann::json::parse(made.out, nullptr, false);
  if (made.exit_status != 0 || !ids.is_object() || !ids.contains("identities"))
    return Status::Unavailable("device-sim could not make device identities: " +
                               LastLine(logs + "/device-sim-identities.log"));
  for (const auto& i : ids["identities"])
    device_identities_.emplace_back(Str(i, "cert_file"), Str(i, "key_file"));
  std::string device_ca = Str(ids, "ca_file");

  auto apns = StartSimulator({sims_.apns_sim, "--listen", "127.0.0.1:0", "--cert", sim_tls_cert_,
                              "--key", sim_tls_key_, "--client-ca", push_vendor_ca_},
                             logs + "/apns-sim.log");
  if (!apns.ok()) return apns.status();
  apns_ = std::move(apns).value();
  auto dep = StartSimulator({sims_.dep_sim, "--listen", "127.0.0.1:0", "--cert", sim_tls_cert_,
                             "--key", sim_tls_key_, "--devices", std::to_string(o_.dep_devices)},
                            logs + "/dep-sim.log");
  if (!dep.ok()) return dep.status();
  dep_ = std::move(dep).value();
  auto core =
      StartSimulator({sims_.core_stub, "--listen", "127.0.0.1:0"}, logs + "/mdm-core-stub.log");
  if (!core.ok()) return core.status();
  core_ = std::move(core).value();

  // The gateway, in this process, on SQLite in the demo's directory, pointed at the simulators.
  GatewayConfig config;
  config.data_dir = dir_.string();
  config.server.listen = o_.listen;
  config.apns.base_url = "https://localhost:" + std::to_string(apns_.port);
  config.apns.ca_file = sim_tls_cert_;
  config.dep.ca_file = sim_tls_cert_;
  config.enrollment.machineinfo_ca_file = device_ca;
  config.upstream.url = "http://127.0.0.1:" + std::to_string(core_.port) + "/mdm";
  config.log.level = o_.log_level;
  MDMGW_RETURN_IF_ERROR(Validate(config));
  log::Level level;
  if (!log::ParseLevel(o_.log_level, &level))
    return Status::InvalidArgument("--log-level must be debug, info, warn, error or off");
  log::SetLevel(level);
  // The demo's gateway reads no MDMGW_* variables: it must not pick up a real deployment's.
  auto app = GatewayApp::Create(config, [](const char*) -> const char* { return nullptr; });
  if (!app.ok()) return app.status();
  app_ = std::move(app).value();
  if (Status s = app_->Start(); !s.ok())
    return Status::Unavailable("the gateway cannot listen on " + o_.listen + ": " + s.message() +
                               " (another gateway running? give --listen 127.0.0.1:0)");
  base_ = "https://127.0.0.1:" + std::to_string(app_->port());

  net::H1ClientOptions gw;
  gw.ca_file = app_->tls_cert_file();
  gw.user_agent = "mdm-gateway-demo";
  auto http = net::H1Client::Create(gw);
  if (!http.ok()) return http.status();
  http_ = std::move(http).value();
  net::H1ClientOptions sim;
  sim.ca_file = sim_tls_cert_;
  sim.client_cert_file = push_cert_;  // apns-sim asks every client for a vendor certificate
  sim.client_key_file = push_key_;
  sim.user_agent = "mdm-gateway-demo";
  auto sim_http = net::H1Client::Create(sim);
  if (!sim_http.ok()) return sim_http.status();
  sim_http_ = std::move(sim_http).value();

  *line = "demo: gateway on " + base_ + " (data in " + dir_.string() +
          "); apns-sim :" + std::to_string(apns_.port) + ", dep-sim :" + std::to_string(dep_.port) +
          ", mdm-core-stub :" + std::to_string(core_.port);
  return Status::Ok();
}

Result<Reply> Walkthrough::Api(const std::string& method, const std::string& path, std::string body,
                               const std::string& content_type) {
  net::ClientRequest req;
  req.method = method;
  req.url = path.rfind("https://", 0) == 0 ? path : base_ + path;
  req.body = std::move(body);
  req.timeout = std::chrono::minutes(5);  // a sync of many devices answers when done
  if (!req.body.empty()) req.headers.Add("content-type", content_type);
  bool to_sim = path.rfind("https://", 0) == 0;
  if (!to_sim) req.headers.Add("authorization", "Bearer " + api_key_);
  auto resp = (to_sim ? sim_http_ : http_)->SendSync(std::move(req));
  if (!resp.ok()) return resp.status();
  Reply r;
  r.status = resp->status;
  r.body = std::move(resp->body);
  r.json = nlohmann::json::parse(r.body, nullptr, false);
  if (r.json.is_discarded()) r.json = nullptr;
  return r;
}

Result<Reply> Walkthrough::Expect(const std::string& method, const std::string& path,
                                  std::string body, const std::string& content_type) {
  auto r = Api(method, path, std::move(body), content_type);
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status > 299) {
    std::string where = path.rfind("https://", 0) == 0 ? path.substr(path.find('/', 8)) : path;
    return Status::FailedPrecondition(method + " " + where + " answered " +
                                      std::to_string(r->status) + ": " + WhyOf(*r));
  }
  return r;
}

Status Walkthrough::StepPushCertificate(std::string* line) {
  auto key = app_->api_keys().Create("demo-admin");
  if (!key.ok()) return key.status();
  api_key_ = key->key.Expose();
  auto cert = ReadFile(push_cert_);
  auto pkey = ReadFile(push_key_);
  if (!cert.ok() || !pkey.ok())
    return Status::NotFound("the issued push certificate is unreadable");
  auto up = Expect("PUT", "/api/v1/apns/certificate", *cert + *pkey, "application/x-pem-file");
  if (!up.ok()) return up.status();
  if (Str(up->json, "topic") != topic_)
    return Status::FailedPrecondition("the gateway read topic " + Str(up->json, "topic", "?") +
                                      ", the certificate has " + topic_);
  *line = "admin key created; push certificate from apns-sim's test vendor uploaded: topic " +
          topic_ + ", expires " + Str(up->json, "not_after", "?") + " (" +
          std::to_string(Num(up->json, "days_left")) + " days)";
  return Status::Ok();
}

Status Walkthrough::StepDepToken(std::string* line) {
  std::string dep_url = "https://localhost:" + std::to_string(dep_.port);
  auto made = Expect("PUT", std::string("/api/v1/dep/servers/") + kDepServer,
                     nlohmann::json{{"base_url", dep_url}}.dump());
  if (!made.ok()) return made.status();
  auto cert = Expect("GET", std::string("/api/v1/dep/servers/") + kDepServer + "/certificate");
  if (!cert.ok()) return cert.status();
  std::string cert_file = (dir_ / "exports" / "dep-exchange-certificate.pem").string();
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(cert_file, cert->body, 0644));
  // What the admin does in Apple Business Manager: upload the certificate, download a .p7m.
  auto p7m = Expect("POST", dep_url + "/sim/token", cert->body, "application/x-pem-file");
  if (!p7m.ok()) return p7m.status();
  auto token = Expect("PUT", std::string("/api/v1/dep/servers/") + kDepServer + "/token", p7m->body,
                      "application/pkcs7-mime");
  if (!token.ok()) return token.status();
  std::string expiry = "?";
  if (token->json.is_object() && token->json.contains("token") && token->json["token"].is_object())
    expiry = Rfc3339(Num(token->json["token"], "expiry"));
  std::string org;
  if (token->json.is_object() && token->json.contains("account"))
    org = Str(token->json["account"], "org_name");
  *line = "DEP server '" + std::string(kDepServer) +
          "': exchange certificate downloaded, dep-sim issued a .p7m token for it, uploaded" +
          (org.empty() ? "" : " (organisation " + org + ")") + ", token expires " + expiry;
  return Status::Ok();
}

Result<std::string> Walkthrough::CreateProfile(const std::string& name, const std::string& method) {
  auto r = Expect(
      "POST", "/api/v1/enrollment-profiles",
      nlohmann::json{{"name", name}, {"method", method}, {"organization", "Demo Org"}}.dump());
  if (!r.ok()) return r.status();
  std::string id = Str(r->json, "id");
  if (id.empty()) return Status::FailedPrecondition("the created profile has no id");
  profile_ids_[method] = id;
  return id;
}

Status Walkthrough::StepSyncAndAssign(std::string* line) {
  std::string server = std::string("/api/v1/dep/servers/") + kDepServer;
  auto started = std::chrono::steady_clock::now();
  auto sync = std::async(std::launch::async, [&] { return Api("POST", server + "/sync?wait=1"); });
  // A progress line while the sync runs: the devices stored so far (each page is committed).
  bool tty = ::isatty(STDOUT_FILENO) != 0;
  while (sync.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) {
    if (!tty) continue;
    auto info = Api("GET", server);
    if (info.ok() && info->json.is_object()) {
      out_ << "\r      syncing: " << Num(info->json, "devices") << " of " << o_.dep_devices
           << " devices stored" << std::flush;
    }
  }
  if (tty) out_ << "\r" << std::string(60, ' ') << "\r" << std::flush;
  auto done = sync.get();
  if (!done.ok()) return done.status();
  if (done->status != 200) return Status::FailedPrecondition("the sync failed: " + WhyOf(*done));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  synced_ = static_cast<int>(Num(done->json, "devices"));
  if (synced_ != o_.dep_devices) {
    return Status::FailedPrecondition("the sync stored " + std::to_string(synced_) +
                                      " devices; dep-sim has " + std::to_string(o_.dep_devices));
  }

  // The DEP profile takes its settings from a gateway dep enrollment profile; as the server's
  // default it is given to every device without one, after the next sync.
  auto ep = CreateProfile("Demo DEP", "dep");
  if (!ep.ok()) return ep.status();
  auto defined = Expect("PUT", server + "/profiles/demo",
                        nlohmann::json{{"default", true}, {"enrollment_profile", *ep}}.dump());
  if (!defined.ok()) return defined.status();
  auto again = Expect("POST", server + "/sync?wait=1");
  if (!again.ok()) return again.status();
  auto info = Expect("GET", server);
  if (!info.ok()) return info.status();
  if (info->json.contains("devices_by_assignment"))
    assigned_ = static_cast<int>(Num(info->json["devices_by_assignment"], "assigned"));
  if (assigned_ == 0) {
    return Status::FailedPrecondition("no device was assigned the default profile: " +
                                      again->body.substr(0, 300));
  }
  std::ostringstream s;
  s << "synced " << synced_ << " devices from dep-sim in " << std::fixed << std::setprecision(1)
    << seconds << " s (" << Num(done->json, "pages") << " pages); DEP profile 'demo' defined as"
    << " the default and auto-assigned to " << assigned_ << " devices";
  *line = s.str();
  return Status::Ok();
}

Status Walkthrough::StepEnrollmentProfiles(std::string* line) {
  for (auto [name, method] : std::vector<std::pair<std::string, std::string>>{
           {"Demo cart", "usb-sa"}, {"Demo direct", "usb-direct"}, {"Demo BYOD", "ota"}}) {
    auto id = CreateProfile(name, method);
    if (!id.ok()) return id.status();
  }
  // Apple Configurator Prepare (usb-sa) enrolls only the serials on the imported list.
  std::string csv;  // "serial,details" lines, no header (Intune's format)
  for (int i = 1; i <= o_.devices_per_method; ++i) {
    char serial[32];
    std::snprintf(serial, sizeof serial, "DEMOSA%04d", i);
    csv += std::string(serial) + ",demo cart iPad " + std::to_string(i) + "\n";
  }
  auto serials = Expect("PUT", "/api/v1/enrollment-profiles/" + profile_ids_["usb-sa"] + "/serials",
                        csv, "text/csv");
  if (!serials.ok()) return serials.status();
  auto zip = Expect("GET", "/api/v1/enrollment-profiles/" + profile_ids_["usb-sa"] +
                               "/export?format=usb-sa&download=zip");
  if (!zip.ok()) return zip.status();
  fs::path zip_file = dir_ / "exports" / "demo-cart-configurator.zip";
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(zip_file.string(), zip->body, 0644));
  exports_.push_back(zip_file.filename().string());
  auto direct = Expect("GET", "/api/v1/enrollment-profiles/" + profile_ids_["usb-direct"] +
                                  "/export?format=usb-direct");
  if (!direct.ok()) return direct.status();
  fs::path direct_file = dir_ / "exports" / "demo-direct.mobileconfig";
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(direct_file.string(), direct->body, 0600));
  exports_.push_back(direct_file.filename().string());
  exports_.push_back("dep-exchange-certificate.pem");
  *line =
      "enrollment profiles for dep, usb-sa, usb-direct and ota created; Configurator exports "
      "written to " +
      (dir_ / "exports").string() +
      " (demo-cart-configurator.zip, "
      "demo-direct.mobileconfig)";
  return Status::Ok();
}

Result<std::string> Walkthrough::DeviceSim(std::vector<std::string> args) {
  args.insert(args.begin(), sims_.device_sim);
  args.push_back("--ca");
  args.push_back(app_->tls_cert_file());
  ToolRun run = RunTool(args, (dir_ / "logs" / "device-sim.log").string());
  if (run.exit_status != 0) {
    return Status::FailedPrecondition(
        "device-sim " + args[1] +
        " failed: " + (run.exit_status < 0 ? "no answer in time" : DeviceSimError(run.out)));
  }
  return run.out;
}

Status Walkthrough::CheckIn(const EnrolledDevice& d, const std::string& messages) {
  auto r = DeviceSim({"checkin", "--profile", d.profile_file, "--udid", d.udid, "--serial",
                      d.serial, "--messages", messages});
  if (!r.ok())
    return Status::FailedPrecondition(d.method + " device " + d.udid + ": " + r.status().message());
  return Status::Ok();
}

Result<int> Walkthrough::CoreRequests(const std::string& kind) {
  net::ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(core_.port) + "/stub/requests";
  auto resp = http_->SendSync(std::move(req));
  if (!resp.ok()) return resp.status();
  auto all = nlohmann::json::parse(resp->body, nullptr, false);
  if (!all.is_array()) return Status::FailedPrecondition("mdm-core-stub's record is unreadable");
  int n = 0;
  for (const auto& r : all) {
    if (Str(r, "kind") == kind) ++n;
  }
  return n;
}

Status Walkthrough::StepEnrollDevices(std::string* line) {
  auto dep_list = Expect("GET", std::string("/api/v1/dep/devices?server=") + kDepServer +
                                    "&limit=" + std::to_string(o_.devices_per_method));
  if (!dep_list.ok()) return dep_list.status();
  std::vector<std::string> dep_serials;
  for (const auto& d : dep_list->json["devices"]) dep_serials.push_back(Str(d, "serial_number"));
  if (static_cast<int>(dep_serials.size()) < o_.devices_per_method)
    return Status::FailedPrecondition("fewer DEP devices than --devices-per-method");
  auto sa = Expect(
      "GET", "/api/v1/enrollment-profiles/" + profile_ids_["usb-sa"] + "/export?format=usb-sa");
  if (!sa.ok()) return sa.status();
  std::string sa_url = Str(sa->json, "enrollment_url");

  size_t identity = 0;
  for (const std::string& method : kMethods) {
    for (int i = 1; i <= o_.devices_per_method; ++i) {
      EnrolledDevice d;
      d.method = method;
      char buf[64];
      std::snprintf(buf, sizeof buf, "DEMO-%s-%04d", method.c_str(), i);
      d.udid = buf;
      for (char& c : d.udid) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::snprintf(buf, sizeof buf, "DEMOSA%04d", i);
      d.serial = method == "dep"      ? dep_serials[static_cast<size_t>(i - 1)]
                 : method == "usb-sa" ? std::string(buf)
                                      : "DEMO" + std::to_string(i) + method.substr(0, 3);
      d.profile_file = (dir_ / "devices" / (d.udid + ".mobileconfig")).string();
      Result<std::string> got = std::string();
      if (method == "dep" || method == "usb-sa") {
        // Setup Assistant: the device POSTs its signed MachineInfo to the enrollment URL.
        const auto& [cert, key] = device_identities_.at(identity++);
        std::string url = method == "dep" ? base_ + "/enroll/dep/" + profile_ids_["dep"] : sa_url;
        got = DeviceSim({"enroll", "--url", url, "--identity-cert", cert, "--identity-key", key,
                         "--udid", d.udid, "--serial", d.serial, "--out", d.profile_file});
      } else if (method == "usb-direct") {
        // Each device gets its own signed copy (its own identity), as Configurator installs it.
        auto file = Expect("GET", "/api/v1/enrollment-profiles/" + profile_ids_["usb-direct"] +
                                      "/export?format=usb-direct");
        if (!file.ok()) return file.status();
        MDMGW_RETURN_IF_ERROR(WriteFileAtomic(d.profile_file, file->body, 0600));
      } else {
        // Over the air: the user opens the invitation link and installs the profile.
        auto invite =
            Expect("POST", "/api/v1/enrollment-profiles/" + profile_ids_["ota"] + "/invitations",
                   nlohmann::json{{"user", "user" + std::to_string(i) + "@example.com"}}.dump());
        if (!invite.ok()) return invite.status();
        got = DeviceSim({"fetch", "--url", Str(invite->json, "url"), "--out", d.profile_file});
      }
      if (!got.ok())
        return Status::FailedPrecondition(method + " enrollment of " + d.udid + ": " +
                                          got.status().message());
      MDMGW_RETURN_IF_ERROR(CheckIn(d, "authenticate,tokenupdate"));
      d.enrolled = true;
      devices_.push_back(std::move(d));
    }
  }
  auto forwarded = CoreRequests("checkin");
  if (!forwarded.ok()) return forwarded.status();
  forwarded_ = *forwarded;
  int want = 2 * static_cast<int>(devices_.size());
  if (forwarded_ < want) {
    return Status::FailedPrecondition("the core stub saw " + std::to_string(forwarded_) +
                                      " check-ins; " + std::to_string(want) + " were sent");
  }
  int n = o_.devices_per_method;
  *line = "enrolled " + std::to_string(devices_.size()) + " devices (" + std::to_string(n) +
          " each by dep, usb-sa, usb-direct, ota): signed profiles verified, Authenticate + "
          "TokenUpdate forwarded to the core (" +
          std::to_string(forwarded_) + " check-ins)";
  return Status::Ok();
}

Status Walkthrough::StepPushAndWake(std::string* line) {
  std::string apns_url = "https://localhost:" + std::to_string(apns_.port);
  auto before = Expect("GET", apns_url + "/sim/stats");
  if (!before.ok()) return before.status();
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& d : devices_) ids.push_back(d.udid);
  auto pushed = Expect("POST", "/api/v1/push", nlohmann::json{{"enrollment_ids", ids}}.dump());
  if (!pushed.ok()) return pushed.status();
  std::map<std::string, bool> delivered;
  for (const auto& r : pushed->json["results"])
    delivered[Str(r, "enrollment_id")] = Flag(r, "delivered");
  auto after = Expect("GET", apns_url + "/sim/stats");
  if (!after.ok()) return after.status();
  long long at_apns = Num(after->json, "delivered_tokens") - Num(before->json, "delivered_tokens");
  int before_connect = CoreRequests("command").value_or(0);
  for (auto& d : devices_) {
    d.pushed = delivered[d.udid];
    if (!d.pushed) continue;
    ++pushes_delivered_;
    // The push woke the device: it connects and asks for commands (Idle).
    MDMGW_RETURN_IF_ERROR(CheckIn(d, "idle"));
    d.woke = true;
  }
  if (pushes_delivered_ != static_cast<int>(devices_.size())) {
    return Status::FailedPrecondition(std::to_string(pushes_delivered_) + " of " +
                                      std::to_string(devices_.size()) +
                                      " pushes delivered: " + pushed->body.substr(0, 300));
  }
  int connects = CoreRequests("command").value_or(0) - before_connect;
  *line = "pushed " + std::to_string(devices_.size()) +
          " devices: " + std::to_string(pushes_delivered_) +
          " accepted by APNs (apns-sim received " + std::to_string(at_apns) +
          " new device tokens); each woke and checked in (Idle → "
          "/mdm/connect → core: " +
          std::to_string(connects) + " answered)";
  if (connects < pushes_delivered_)
    return Status::FailedPrecondition("the core stub saw " + std::to_string(connects) +
                                      " Idle connects; " + std::to_string(pushes_delivered_) +
                                      " devices woke");
  return Status::Ok();
}

void Walkthrough::PrintSummary() {
  out_ << "[7/" << kSteps << "] summary" << std::endl;
  out_ << "      method      devices  enrolled  pushed  checked in" << std::endl;
  int total = 0, enrolled = 0, pushed = 0, woke = 0;
  for (const std::string& m : kMethods) {
    int n = 0, e = 0, p = 0, w = 0;
    for (const auto& d : devices_) {
      if (d.method != m) continue;
      ++n;
      e += d.enrolled;
      p += d.pushed;
      w += d.woke;
    }
    total += n;
    enrolled += e;
    pushed += p;
    woke += w;
    char row[128];
    std::snprintf(row, sizeof row, "      %-10s  %7d  %8d  %6d  %10d", m.c_str(), n, e, p, w);
    out_ << row << std::endl;
  }
  char row[128];
  std::snprintf(row, sizeof row, "      %-10s  %7d  %8d  %6d  %10d", "total", total, enrolled,
                pushed, woke);
  out_ << row << std::endl;
  out_ << "      DEP devices synced: " << synced_ << ", assigned: " << assigned_
       << "; check-ins forwarded to the core: " << forwarded_ << std::endl;
  out_ << "      exports (" << exports_.size() << "): " << (dir_ / "exports").string() << "/{";
  for (size_t i = 0; i < exports_.size(); ++i) out_ << (i ? "," : "") << exports_[i];
  out_ << "}" << std::endl;
  out_ << "      device profiles: " << (dir_ / "devices").string()
       << "; logs: " << (dir_ / "logs").string() << std::endl;
  out_ << "      console: " << base_ << "/console/ (sign in with the admin key)" << std::endl;
  out_ << "      admin API: " << base_ << "/api/v1 (TLS certificate " << app_->tls_cert_file()
       << ")" << std::endl;
  out_ << "      admin key (shown once): " << api_key_ << std::endl;
  if (!o_.exit_when_done)
    out_ << "demo: the gateway keeps running on " << base_ << "; Ctrl-C stops it and the simulators"
         << std::endl;
}

void Walkthrough::StopAll() {
  if (app_) {
    app_->Shutdown();
    app_.reset();
  }
  http_.reset();
  sim_http_.reset();
  for (RunningSimulator* s : {&apns_, &dep_, &core_}) {
    if (s->process) s->process->Stop(std::chrono::seconds(3));
    s->process.reset();
  }
}

}  // namespace

int RunDemo(const DemoOptions& options, std::ostream& out) {
  Walkthrough walk(options, out);
  try {
    return walk.Run();
  } catch (const std::exception& e) {
    // A bug in the walk-through itself; say so rather than abort with the simulators left running.
    out << "demo: FAILED: unexpected error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace mdmgw::gateway::demo

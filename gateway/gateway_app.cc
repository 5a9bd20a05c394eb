#include "gateway/gateway_app.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <openssl/pem.h>

#include "common/crypto/openssl_ptr.h"
#include "common/crypto/self_signed.h"
#include "common/encoding.h"
#include "common/log.h"
#include "configurator/apple_device_ca.h"
#include "gateway/handlers/admin_info.h"
#include "gateway/handlers/apns_admin.h"
#include "gateway/handlers/console.h"
#include "gateway/handlers/dep_admin.h"
#include "gateway/handlers/dep_profile_admin.h"
#include "gateway/handlers/enrollment_endpoints.h"
#include "gateway/handlers/enrollment_profile_admin.h"
#include "gateway/handlers/group_admin.h"
#include "gateway/handlers/health.h"
#include "gateway/handlers/mdm_endpoints.h"
#include "gateway/handlers/portal.h"
#include "gateway/handlers/push_api.h"
#include "gateway/handlers/report_admin.h"
#include "gateway/handlers/routing_admin.h"
#include "gateway/master_key.h"
#include "gateway/pilot_targets.h"

namespace mdmgw::gateway {
namespace {

Status MakeDir(const std::string& path, int mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Status::Ok();
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Unavailable("cannot create directory " + path + ": " + ec.message());
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  return Status::Ok();
}

// The configured certificate, or <data_dir>/tls/server.{crt,key} generated for localhost once.
Status PrepareTls(const GatewayConfig& config, std::string* cert_file, std::string* key_file) {
  if (!config.server.tls_cert_file.empty()) {
    *cert_file = config.server.tls_cert_file;
    *key_file = config.server.tls_key_file;
    return Status::Ok();
  }
  std::string dir = config.data_dir + "/tls";
  *cert_file = dir + "/server.crt";
  *key_file = dir + "/server.key";
  std::error_code ec;
  if (std::filesystem::exists(*cert_file, ec) && std::filesystem::exists(*key_file, ec)) {
    return Status::Ok();
  }
  MDMGW_RETURN_IF_ERROR(MakeDir(dir, 0700));
  auto generated = crypto::GenerateSelfSignedServerCertificate({"localhost"}, 825);
  if (!generated.ok()) return generated.status();
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(*key_file, generated->key_pem.Expose(), 0600));
  MDMGW_RETURN_IF_ERROR(WriteFileAtomic(*cert_file, generated->cert_pem, 0644));
  log::Info("generated a self-signed TLS certificate for localhost",
            {{"certificate", *cert_file}, {"key", *key_file}});
  return Status::Ok();
}

// The server certificate (DER) as a trust anchor when it is self-signed: a device trusts only
// public CAs, a DEP profile's anchor_certs and an enrollment profile's root payloads.
std::vector<std::string> SelfSignedAnchorDer(const std::string& cert_file) {
  auto pem = ReadFile(cert_file);
  if (!pem.ok()) return {};
  crypto::BioPtr bio = crypto::MemBio(*pem);
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  // Self-signed: issuer = subject and its own key verifies it (a leaf without keyCertSign, so
  // X509_check_issued would refuse it).
  if (!cert ||
      X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) != 0 ||
      X509_verify(cert.get(), X509_get0_pubkey(cert.get())) != 1) {
    return {};
  }
  int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert.get(), &p);
  return {der};
}

std::vector<std::string> Base64All(std::vector<std::string> items) {
  for (auto& i : items) i = Base64Encode(i);
  return items;
}

// https://<listen host>:<port>, with localhost for a wildcard or loopback address (the generated
// certificate's name).
std::string DefaultPublicUrl(const std::string& host, uint16_t port) {
  bool local =
      host.empty() || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" || host == "::1";
  std::string h = local ? "localhost" : host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return "https://" + h + (port == 443 ? "" : ":" + std::to_string(port));
}

std::chrono::milliseconds Seconds(int s) { return std::chrono::milliseconds(int64_t{s} * 1000); }

// <data_dir>/instance names the last process that ran on this data dir. A process killed while it
// held leases (a DEP sync under way) comes back under a new instance id; it frees what its
// previous life held, so its work resumes at once rather than after the leases' TTL. (Another
// instance's leases are never touched: each instance has its own data dir, and if two share one,
// the freed leases are only taken over, their old holder fenced off.)
Status ForfeitPreviousLeases(store::Store& store, const std::string& data_dir) {
  std::string file = data_dir + "/instance";
  if (auto previous = ReadFile(file); previous.ok()) {
    std::string id = *previous;
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (!id.empty() && id != store.instance_id()) {
      auto freed = store.ForfeitLeases(id);
      if (!freed.ok()) return freed.status().WithContext("freeing the previous run's leases");
      if (*freed > 0) {
        log::Info("freed the leases this instance held before it was restarted",
                  {{"previous_instance", id}, {"leases", *freed}});
      }
    }
  }
  return WriteFileAtomic(file, store.instance_id() + "\n", 0600);
}

}  // namespace

Status EnsureDataDir(const GatewayConfig& config) { return MakeDir(config.data_dir, 0700); }

Result<std::unique_ptr<store::Store>> OpenConfiguredStore(const GatewayConfig& config) {
  std::string url = config.EffectiveStoreUrl();
  if (config.store.url.empty()) MDMGW_RETURN_IF_ERROR(EnsureDataDir(config));
  store::StoreOptions options;
  options.max_connections = config.store.max_connections;
  auto store = store::Store::Open(url, options);
  if (!store.ok()) return store.status().WithContext("store " + store::RedactStoreUrl(url));
  return store;
}

Result<std::unique_ptr<GatewayApp>> GatewayApp::Create(const GatewayConfig& config,
                                                       const GetEnv& getenv_fn) {
  std::unique_ptr<GatewayApp> app(new GatewayApp());
  app->config_ = config;
  MDMGW_RETURN_IF_ERROR(EnsureDataDir(config));

  std::string key_file;
  MDMGW_RETURN_IF_ERROR(PrepareTls(config, &app->tls_cert_file_, &key_file));

  auto store = OpenConfiguredStore(config);
  if (!store.ok()) return store.status();
  app->store_ = std::move(store).value();

  // After the store: the key is checked against it (and an interrupted rotation settled).
  const char* env_key = getenv_fn("MDMGW_MASTER_KEY");
  auto master = OpenMasterKey(*app->store_, config.data_dir, env_key ? env_key : "");
  if (!master.ok()) return master.status().WithContext("master key");
  app->secret_box_ = std::make_unique<SecretBox>(std::move(master->box));

  MDMGW_RETURN_IF_ERROR(ForfeitPreviousLeases(*app->store_, config.data_dir));

  app->metrics_ = std::make_unique<GatewayMetrics>(app->registry_);
  app->api_keys_ = std::make_unique<ApiKeys>(app->store_->api_keys(), Clock::System());
  app->router_ =
      std::make_unique<Router>(config.server.max_body_bytes, *app->metrics_, app->api_keys_.get());
  app->router_->SetAuditLog(&app->store_->audit());
  app->auth_failures_ = std::make_unique<AuthFailureLimiter>(
      Clock::System(),
      AuthFailureLimits{config.server.auth_failure_limit,
                        std::chrono::seconds(config.server.auth_failure_window_seconds)});
  app->router_->SetAuthFailureLimiter(app->auth_failures_.get());
  app->push_certs_ = std::make_unique<apns::PushCertService>(
      app->store_->push_certs(), *app->secret_box_, Clock::System(), &app->registry_);
  app->push_certs_->CheckExpiry();
  apns::PushCertService* certs = app->push_certs_.get();
  AddHealthRoutes(*app->router_, *app->store_, app->registry_, [certs]() -> nlohmann::json {
    auto info = certs->Info();
    if (!info.ok()) return {{"apns_certificate", "none"}};
    std::string state = info->days_left < 0     ? "expired"
                        : info->days_left <= 30 ? "expires_soon"
                                                : "ok";
    return {{"apns_certificate",
             {{"state", state}, {"days_left", info->days_left}, {"topic", info->topic}}}};
  });
  AddAdminInfoRoutes(*app->router_, *app->store_, *app->api_keys_);
  // Several instances on one database: leases for run-once work, and the feed that tells this
  // instance what the others changed (DESIGN §6).
  app->leases_ = std::make_unique<store::LeaseKeeper>(
      app->store_->leases(), app->store_->instance_id(),
      std::chrono::seconds(config.store.lease_ttl_seconds), &app->registry_);
  app->changes_ = std::make_unique<store::ChangeFeed>(*app->store_, &app->registry_);
  AddApnsAdminRoutes(*app->router_, *app->push_certs_);

  apns::ApnsClientOptions apns_options;
  apns_options.base_url = config.apns.base_url;
  apns_options.ca_file = config.apns.ca_file;
  apns_options.connections = config.apns.connections;
  apns_options.push_timeout = Seconds(config.apns.push_timeout_seconds);
  auto apns_client = apns::ApnsClient::Create(apns_options, &app->registry_);
  if (!apns_client.ok()) return apns_client.status();
  app->apns_client_ = std::move(apns_client).value();
  if (auto active = app->push_certs_->LoadActive(); active.ok()) {
    MDMGW_RETURN_IF_ERROR(app->apns_client_->SetCertificate(&*active));
  } else if (!active.status().IsNotFound()) {
    return active.status().WithContext("loading the stored push certificate");
  }
  apns::ApnsClient* client = app->apns_client_.get();
  app->push_certs_->AddChangeListener([client](const apns::PushCertificate* cert) {
    Status s = client->SetCertificate(cert);
    if (!s.ok()) log::Error("apns: new certificate not usable for TLS", {{"error", s.ToString()}});
  });
  app->push_service_ =
      std::make_unique<apns::PushService>(app->store_->enrollments(), *app->apns_client_);
  AddPushRoutes(*app->router_, *app->push_service_, app->store_->enrollments());
  net::H1ClientOptions dep_http_options;
  dep_http_options.ca_file = config.dep.ca_file;
  auto dep_http = net::H1Client::Create(dep_http_options);
  if (!dep_http.ok()) return dep_http.status().WithContext("DEP HTTP client");
  app->dep_http_ = std::move(dep_http).value();
  app->dep_servers_ = std::make_unique<dep::DepServerService>(app->store_->dep(), *app->secret_box_,
                                                              Clock::System(), *app->dep_http_);
  app->dep_clients_ =
      std::make_unique<dep::DepClients>(app->store_->dep(), *app->dep_servers_, *app->dep_http_);
  app->dep_clients_->set_request_timeout(std::chrono::seconds(config.dep.timeout_seconds));
  app->dep_assigner_ = std::make_unique<dep::DepAssigner>(app->store_->dep(), *app->dep_clients_,
                                                          Clock::System(), &app->registry_);
  app->dep_profiles_ = std::make_unique<dep::DepProfileService>(
      app->store_->dep(), *app->dep_clients_, *app->dep_assigner_, config.server.public_url,
      Base64All(SelfSignedAnchorDer(app->tls_cert_file_)));
  app->dep_syncer_ = std::make_unique<dep::DepSyncer>(app->store_->dep(), *app->dep_clients_,
                                                      Clock::System(), &app->registry_);
  app->dep_syncer_->SetAssigner(app->dep_assigner_.get());
  app->dep_syncer_->SetLeases(app->leases_.get());
  GatewayApp* self = app.get();
  app->dep_syncer_->SetExpiryWarnings([self] { return self->IsHousekeeper(); });
  AddDepAdminRoutes(*app->router_, *app->dep_servers_, *app->dep_syncer_, app->store_->dep());
  app->blocking_work_ = std::make_unique<BlockingWork>(2);

  // Enrollment profiles, signed with the configured pair or the server's TLS certificate.
  auto signer = config.enrollment.signing_cert_file.empty()
                    ? configurator::ProfileSigner::FromFiles(app->tls_cert_file_, key_file)
                    : configurator::ProfileSigner::FromFiles(config.enrollment.signing_cert_file,
                                                             config.enrollment.signing_key_file);
  if (!signer.ok()) return signer.status().WithContext("enrollment profile signer");
  app->profile_signer_ = std::move(signer).value();
  auto ca = configurator::EnrollmentCa::LoadOrCreate(app->store_->profiles(), *app->secret_box_);
  if (!ca.ok()) return ca.status().WithContext("enrollment CA");
  app->enrollment_ca_ = std::move(ca).value();
  app->enrollment_profiles_ = std::make_unique<configurator::EnrollmentProfileService>(
      app->store_->profiles(), *app->secret_box_, *app->profile_signer_, app->enrollment_ca_.get(),
      SelfSignedAnchorDer(app->tls_cert_file_), config.server.public_url);
  if (auto cert = app->store_->push_certs().GetPushCert(); cert.ok()) {
    app->enrollment_profiles_->SetPushTopic(cert->topic);
  }
  configurator::EnrollmentProfileService* enrollment = app->enrollment_profiles_.get();
  app->push_certs_->AddChangeListener([enrollment](const apns::PushCertificate* cert) {
    enrollment->SetPushTopic(cert != nullptr ? cert->topic : "");
  });
  app->enrollment_links_ = std::make_unique<configurator::EnrollmentLinks>(
      *app->enrollment_profiles_, app->store_->profiles());
  app->enrollment_links_->SetPublicUrl(config.server.public_url);
  AddEnrollmentProfileRoutes(*app->router_, *app->enrollment_profiles_, *app->enrollment_links_);
  std::string apple_ca(configurator::AppleDeviceCaBundle());
  if (!config.enrollment.apple_device_ca_file.empty()) {
    auto file = ReadFile(config.enrollment.apple_device_ca_file);
    if (!file.ok()) return file.status().WithContext("apple_device_ca_file");
    apple_ca = *file;
  }
  std::string extra_ca;
  if (!config.enrollment.machineinfo_ca_file.empty()) {
    auto file = ReadFile(config.enrollment.machineinfo_ca_file);
    if (!file.ok()) return file.status().WithContext("machineinfo_ca_file");
    extra_ca = *file;
  }
  auto verifier = configurator::MachineInfoVerifier::Create(apple_ca, extra_ca);
  if (!verifier.ok()) return verifier.status().WithContext("MachineInfo verifier");
  app->machine_info_verifier_ = std::move(verifier).value();
  app->setup_assistant_ = std::make_unique<configurator::SetupAssistantEnrollment>(
      *app->enrollment_profiles_, *app->machine_info_verifier_, app->store_->profiles());
  AddEnrollmentEndpoints(*app->router_, *app->setup_assistant_, *app->enrollment_links_);
  AddGroupRoutes(*app->router_, app->store_->profiles());
  AddReportRoutes(*app->router_, app->store_->reports());
  app->pilot_targets_ =
      std::make_unique<PilotTargets>(*app->enrollment_profiles_, app->store_->profiles());
  app->dep_assigner_->SetTargets(app->pilot_targets_.get());
  AddDepProfileRoutes(*app->router_, *app->dep_profiles_, *app->dep_assigner_, *app->dep_clients_,
                      *app->blocking_work_, *app->enrollment_profiles_);

  // Check-in and command forwarding: device identities chain to the devices CA file and to the
  // gateway's own enrollment CA (the identities it issues in enrollment profiles).
  std::string devices_ca = app->enrollment_ca_->cert_pem();
  if (!config.devices.ca_file.empty()) {
    auto file = ReadFile(config.devices.ca_file);
    if (!file.ok()) return file.status().WithContext("devices ca_file");
    devices_ca = *file + "\n" + devices_ca;
  }
  std::vector<Cidr> proxies;
  for (size_t start = 0; start < config.devices.trusted_proxies.size();) {
    size_t comma = config.devices.trusted_proxies.find(',', start);
    if (comma == std::string::npos) comma = config.devices.trusted_proxies.size();
    std::string item = config.devices.trusted_proxies.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      auto cidr = Cidr::Parse(item);
      if (!cidr.ok()) return cidr.status().WithContext("trusted_proxies");
      proxies.push_back(*cidr);
    }
    start = comma + 1;
  }
  auto identities = DeviceIdentityVerifier::Create(devices_ca, std::move(proxies));
  if (!identities.ok()) return identities.status().WithContext("device CA bundle");
  app->device_identities_ = std::move(identities).value();
  app->routing_ = std::make_unique<Routing>(
      app->store_->enrollments(), app->store_->profiles(),
      UpstreamTarget{"default", config.upstream.url, config.upstream.checkin_url});
  MDMGW_RETURN_IF_ERROR(app->routing_->Load());
  UpstreamForwarderOptions forward;
  forward.cert_header_style = config.upstream.cert_header_style;
  forward.cert_header = config.upstream.cert_header;
  forward.timeout = Seconds(config.upstream.timeout_seconds);
  forward.retry_after_seconds = config.upstream.retry_after_seconds;
  forward.connections_per_core = config.upstream.connections;
  auto forwarder = UpstreamForwarder::Create(forward, Clock::System(), &app->registry_);
  if (!forwarder.ok()) return forwarder.status();
  app->forwarder_ = std::move(forwarder).value();
  PlistLimits limits;
  limits.max_bytes = config.devices.checkin_max_body_bytes;
  app->checkins_ = std::make_unique<CheckInService>(
      app->store_->enrollments(), *app->secret_box_, *app->device_identities_, *app->routing_,
      *app->forwarder_, Clock::System(), limits, &app->registry_);
  if (auto cert = app->store_->push_certs().GetPushCert(); cert.ok()) {
    app->checkins_->SetPushTopic(cert->topic);
  }
  CheckInService* checkins = app->checkins_.get();
  app->push_certs_->AddChangeListener([checkins](const apns::PushCertificate* cert) {
    checkins->SetPushTopic(cert != nullptr ? cert->topic : "");
  });
  AddMdmEndpoints(*app->router_, *app->checkins_, config.devices.checkin_max_body_bytes);
  app->stale_cleanup_ = std::make_unique<StaleDeviceCleanup>(
      app->store_->enrollments(), Clock::System(), config.devices.stale_after_days);
  AddRoutingAdminRoutes(*app->router_, *app->routing_, *app->stale_cleanup_);
  AddPortalRoutes(*app->router_, app->store_->profiles(), Clock::System());

  // What other instances change, used here at once (push identity, routing, built profiles).
  app->changes_->On(store::Store::kPushCertTopic, [self] {
    if (Status s = self->push_certs_->ReloadFromStore(); !s.ok())
      log::Error("apns: cannot read the certificate another instance stored",
                 {{"error", s.ToString()}});
  });
  app->changes_->On(store::Store::kRoutingTopic, [self] {
    if (Status s = self->routing_->Load(); !s.ok())
      log::Error("routing: cannot read the table another instance stored",
                 {{"error", s.ToString()}});
  });
  app->changes_->On(store::Store::kEnrollmentProfilesTopic,
                    [self] { self->enrollment_profiles_->ForgetBuiltProfiles(); });
  AddConsoleRoutes(*app->router_);

  net::ServerOptions options;
  std::string host;
  uint16_t port = 0;
  MDMGW_RETURN_IF_ERROR(ParseHostPort(config.server.listen, &host, &port));
  options.host = host;
  options.port = port;
  options.threads = config.server.threads;
  options.tls_cert_file = app->tls_cert_file_;
  options.tls_key_file = key_file;
  options.client_ca_file = config.devices.ca_file;
  options.limits.max_connections = config.server.max_connections;
  options.limits.max_header_bytes = config.server.max_header_bytes;
  options.limits.max_concurrent_streams = config.server.max_concurrent_streams;
  options.limits.idle_timeout = Seconds(config.server.idle_timeout_seconds);
  options.limits.read_timeout = Seconds(config.server.read_timeout_seconds);
  options.limits.handler_timeout = Seconds(config.server.handler_timeout_seconds);
  options.limits.handshake_timeout = Seconds(config.server.handshake_timeout_seconds);
  options.open_connections = &app->metrics_->open_connections;
  options.refused_connections = &app->metrics_->refused_connections;
  auto server = net::Server::Create(options, *app->router_);
  if (!server.ok()) return server.status();
  app->server_ = std::move(server).value();

  log::Info("gateway prepared", {{"data_dir", config.data_dir},
                                 {"store", store::RedactStoreUrl(config.EffectiveStoreUrl())},
                                 {"master_key", master->origin},
                                 {"master_key_created", master->created},
                                 {"tls_certificate", app->tls_cert_file_},
                                 {"tls_key", key_file}});
  return app;
}

GatewayApp::~GatewayApp() {
  StopBackground();
  if (server_) server_->Shutdown(std::chrono::milliseconds(0));
}

void GatewayApp::StopBackground() {
  {
    std::lock_guard lock(housekeeping_mu_);
    stopping_ = true;
  }
  housekeeping_cv_.notify_all();
  if (housekeeping_.joinable()) housekeeping_.join();
  {
    // Released now, so another instance takes housekeeping over without waiting for the expiry.
    std::lock_guard lock(housekeeper_mu_);
    housekeeping_lease_.reset();
  }
  if (changes_) changes_->Stop();
  // Fails queued pushes and syncs (their requests get answers) before the server goes away.
  if (apns_client_) apns_client_->Stop();
  if (dep_syncer_) dep_syncer_->Stop();
  if (blocking_work_) blocking_work_->Stop();
  if (forwarder_) forwarder_->Stop();
}

Status GatewayApp::Start() {
  // The change feed listens before requests are served, so no change made meanwhile is missed.
  MDMGW_RETURN_IF_ERROR(changes_->Start());
  MDMGW_RETURN_IF_ERROR(server_->Start());
  if (config_.server.public_url.empty()) {
    std::string host;
    uint16_t port = 0;
    (void)ParseHostPort(config_.server.listen, &host, &port);
    dep_profiles_->SetPublicUrl(DefaultPublicUrl(host, server_->port()));
    enrollment_profiles_->SetPublicUrl(DefaultPublicUrl(host, server_->port()));
    enrollment_links_->SetPublicUrl(DefaultPublicUrl(host, server_->port()));
  }
  dep_syncer_->Start();
  housekeeping_ = std::thread([this] {
    // Every minute: the expiry metrics here, and the housekeeping lease (one instance of several
    // holds it); its holder logs expiry warnings and runs the stale-device cleanup hourly.
    auto last_cleanup = std::chrono::steady_clock::now();
    std::unique_lock lock(housekeeping_mu_);
    do {
      lock.unlock();
      bool leader = TakeHousekeeping();
      push_certs_->CheckExpiry(leader);
      if (leader && std::chrono::steady_clock::now() - last_cleanup >= std::chrono::hours(1)) {
        last_cleanup = std::chrono::steady_clock::now();
        if (auto report = stale_cleanup_->Run(config_.devices.stale_cleanup_dry_run);
            !report.ok()) {
          log::Warn("stale device cleanup failed", {{"error", report.status().ToString()}});
        }
      }
      lock.lock();
    } while (
        !housekeeping_cv_.wait_for(lock, std::chrono::minutes(1), [this] { return stopping_; }));
  });
  log::Info("listening", {{"address", config_.server.listen},
                          {"port", server_->port()},
                          {"protocols", "h2, http/1.1"}});
  return Status::Ok();
}

bool GatewayApp::TakeHousekeeping() {
  std::lock_guard lock(housekeeper_mu_);
  if (housekeeping_lease_ && !housekeeping_lease_->lost()) return true;
  housekeeping_lease_.reset();
  auto got = leases_->TryAcquire("housekeeping");
  if (!got.ok()) {
    log::Warn("housekeeping: cannot take the lease", {{"error", got.status().ToString()}});
    return false;
  }
  housekeeping_lease_ = *got;
  if (housekeeping_lease_)
    log::Info("housekeeping: this instance runs it (expiry warnings, cleanup)");
  return housekeeping_lease_ != nullptr;
}

bool GatewayApp::IsHousekeeper() {
  std::lock_guard lock(housekeeper_mu_);
  return housekeeping_lease_ && !housekeeping_lease_->lost();
}

void GatewayApp::Shutdown() {
  // In-flight requests (pushes included) finish within the grace; then background work stops.
  server_->Shutdown(Seconds(config_.server.shutdown_grace_seconds));
  StopBackground();
}

void GatewayApp::RunUntilSignal() {
  server_->WaitForSignalThenShutdown(Seconds(config_.server.shutdown_grace_seconds));
  StopBackground();
  log::Info("stopped");
}

}  // namespace mdmgw::gateway

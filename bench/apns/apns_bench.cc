// apns-bench: the gateway's side of bench/apns. Sends --count distinct MDM pushes through the
// production ApnsClient (the pool the gateway runs) to an APNs endpoint with certificate auth and
// prints one JSON line: {"pushes","delivered","failed","seconds","rate","peak_rss_kb",...}.
// One warm-up push first (connection setup is excluded, as for the peers).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "apns/apns_client.h"
#include "common/encoding.h"
#include "common/log.h"

int main(int argc, char** argv) {
  using namespace mdmgw;
  CLI::App app{"send N MDM pushes through the gateway's APNs client pool"};
  std::string url, ca, cert_file, key_file;
  int count = 50000;
  int connections = 2;
  uint32_t streams = 500;
  uint64_t token_offset = 1;
  app.add_option("--url", url, "APNs base URL")->required();
  app.add_option("--ca", ca, "CA for the APNs host");
  app.add_option("--cert", cert_file, "push certificate PEM")->required();
  app.add_option("--key", key_file, "push key PEM")->required();
  app.add_option("--count", count);
  app.add_option("--connections", connections);
  app.add_option("--streams", streams, "streams per connection (cap)");
  app.add_option("--token-offset", token_offset, "first token number");
  CLI11_PARSE(app, argc, argv);
  log::SetLevel(log::Level::kWarn);

  auto cert_pem = ReadFile(cert_file);
  auto key_pem = ReadFile(key_file);
  if (!cert_pem.ok() || !key_pem.ok()) {
    std::fprintf(stderr, "apns-bench: cannot read the certificate or key\n");
    return 2;
  }
  auto cert = apns::ParsePemPushCertificate(*cert_pem, *key_pem, "", std::time(nullptr));
  if (!cert.ok()) {
    std::fprintf(stderr, "apns-bench: %s\n", cert.status().ToString().c_str());
    return 2;
  }
  apns::ApnsClientOptions options;
  options.base_url = url;
  options.ca_file = ca;
  options.connections = connections;
  options.max_streams_per_connection = streams;
  auto client = apns::ApnsClient::Create(options);
  if (!client.ok() || !(*client)->SetCertificate(&*cert).ok()) {
    std::fprintf(stderr, "apns-bench: cannot create the client\n");
    return 2;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> done{0}, delivered{0};
  auto token = [](uint64_t n) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064llx", static_cast<unsigned long long>(n));
    return std::string(buf);
  };
  auto callback = [&](apns::PushResult r) {
    if (r.outcome == apns::PushOutcome::kDelivered) ++delivered;
    if (int d = ++done; d == 1 || d % 1024 == 0 || d >= count + 1) {
      std::lock_guard lock(mu);
      cv.notify_all();
    }
  };
  // Warm-up: one push opens the first connection and lifts its slow start.
  apns::PushRequest warm;
  warm.token_hex = token(token_offset + static_cast<uint64_t>(count) + 1000000);
  warm.push_magic = "warm-up";
  (*client)->Push(warm, callback);
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return done.load() >= 1; });
  }
  if (done.load() < 1) {
    std::fprintf(stderr, "apns-bench: the warm-up push got no answer\n");
    return 1;
  }
  // Built before the clock starts, handed over in slices of 1000 as the gateway's PushService does.
  std::vector<std::vector<std::pair<apns::PushRequest, apns::PushCallback>>> slices;
  for (int first = 0; first < count; first += 1000) {
    auto& batch = slices.emplace_back();
    batch.reserve(1000);
    for (int i = first; i < std::min(count, first + 1000); ++i) {
      apns::PushRequest r;
      r.token_hex = token(token_offset + static_cast<uint64_t>(i));
      r.push_magic = "11111111-2222-3333-4444-" + std::to_string(100000000000 + i);
      batch.emplace_back(std::move(r), callback);
    }
  }
  auto start = std::chrono::steady_clock::now();
  for (auto& batch : slices) (*client)->PushMany(std::move(batch));
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(300), [&] { return done.load() >= count + 1; });
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto stats = (*client)->stats();
  (*client)->Stop();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {{"client", "mdm-gateway ApnsClient"},
                        {"pushes", count},
                        {"delivered", delivered.load() - 1},
                        {"failed", count + 1 - done.load() + (done.load() - delivered.load())},
                        {"seconds", seconds},
                        {"rate", count / seconds},
                        {"peak_rss_kb", usage.ru_maxrss},
                        {"connections", connections},
                        {"max_in_flight", connections * static_cast<int>(streams)},
                        {"retried", stats.retried}};
  std::printf("%s\n", out.dump().c_str());
  return delivered.load() - 1 == count ? 0 : 1;
}

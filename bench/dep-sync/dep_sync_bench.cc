// dep-sync-bench: the gateway's side of bench/dep-sync. A full sync of every device dep-sim holds
// into a fresh SQLite store through the production DepSyncer, then the default profile assigned to
// every device through the production DepAssigner (1000 serials per call); prints one JSON line
// with devices/s, wall times and peak RSS.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/random.h"
#include "dep/dep_assigner.h"
#include "dep/dep_profile_service.h"
#include "dep/dep_syncer.h"
#include "store/store.h"

int main(int argc, char** argv) {
  using namespace mdmgw;
  CLI::App app{"full DEP sync from a DEP API endpoint into SQLite"};
  std::string url, ca, db;
  app.add_option("--url", url, "DEP API base URL")->required();
  app.add_option("--ca", ca, "CA for the DEP host");
  app.add_option("--db", db, "SQLite file to create")->required();
  CLI11_PARSE(app, argc, argv);
  log::SetLevel(log::Level::kWarn);
  std::filesystem::remove(db);
  auto store = store::Store::Open("sqlite:" + db);
  if (!store.ok()) {
    std::fprintf(stderr, "dep-sync-bench: %s\n", store.status().ToString().c_str());
    return 2;
  }
  net::H1ClientOptions http_options;
  http_options.ca_file = ca;
  auto http = net::H1Client::Create(http_options).value();
  SecretBox box = SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value();
  // The server record as a token upload leaves it (dep-sim's default organisation credentials).
  store::DepServerRecord r;
  r.name = "bench";
  r.base_url = url;
  r.consumer_key = "CK_bench";
  nlohmann::json secrets = {
      {"consumer_secret", "CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6"},
      {"access_token", "AT_O8473841760O4d4ed4c2e1e0fd7e7a1a8d1e8ed5d0e6c5d0c1ccO1571954"},
      {"access_secret", "AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5"}};
  r.sealed_token = box.Seal(secrets.dump(), "dep.token:bench");
  r.token_expiry = 4102444800;
  if (!(*store)->PutDepServer(r).ok()) return 2;
  dep::DepServerService servers((*store)->dep(), box, Clock::System(), *http);
  dep::DepClients clients((*store)->dep(), servers, *http);
  dep::DepSyncer syncer((*store)->dep(), clients);
  dep::DepSyncResult result = syncer.SyncOnce("bench");
  // Assignment, timed apart from the sync: define a default profile, then one auto-assign run.
  dep::DepAssigner assigner((*store)->dep(), clients);
  dep::DepProfileService profiles((*store)->dep(), clients, assigner, "https://mdm.example.com",
                                  {});
  auto defined = profiles.Define("bench", "bench", {{"default", true}});
  auto assign_started = std::chrono::steady_clock::now();
  auto assigned = defined.ok() ? assigner.AutoAssign("bench") : defined.status();
  double assign_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - assign_started).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = result.ToJson();
  out["devices_per_second"] = result.fetched / std::max(result.seconds, 1e-9);
  out["peak_rss_kb"] = usage.ru_maxrss;
  out["assign_seconds"] = assign_seconds;
  out["assigned"] = assigned.ok() ? assigned->success : 0;
  out["assign_calls"] = assigned.ok() ? assigned->calls : 0;
  if (!assigned.ok()) out["assign_error"] = assigned.status().ToString();
  std::printf("%s\n", out.dump().c_str());
  return result.ok && assigned.ok() ? 0 : 1;
}

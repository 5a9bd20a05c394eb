// checkin-parts-bench: what one check-in costs the gateway beyond proxying, each part measured
// alone on one thread with the production code: the Mdm-Signature check with the device's
// certificate remembered (the steady state), the plist parse, and sealing the UnlockToken plus
// the TokenUpdate upsert in SQLite (file, WAL). Prints one JSON line of microseconds per operation.
// bench/checkin-forward/run sets these beside the proxies' whole per-request CPU cost.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "common/plist_guard.h"
#include "common/secret_box.h"
#include "gateway/checkin_message.h"
#include "gateway/device_identity.h"
#include "store/store.h"

namespace {

// Runs |op| for |seconds| (after 200 warm-up calls); microseconds per call.
double MicrosPerOp(double seconds, const std::function<bool()>& op) {
  for (int i = 0; i < 200; ++i) {
    if (!op()) return -1;
  }
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  int64_t n = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 100; ++i, ++n) {
      if (!op()) return -1;
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return elapsed * 1e6 / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mdmgw;
  CLI::App app{"per-part cost of a check-in"};
  std::string ca, body_file, sig_file, db;
  double seconds = 2;
  app.add_option("--ca", ca, "device CA PEM")->required();
  app.add_option("--body", body_file, "TokenUpdate plist")->required();
  app.add_option("--signature", sig_file, "Mdm-Signature header value (base64)")->required();
  app.add_option("--db", db, "SQLite file to write (created)")->required();
  app.add_option("--seconds", seconds, "how long to run each part");
  CLI11_PARSE(app, argc, argv);
  log::SetLevel(log::Level::kWarn);

  auto ca_pem = ReadFile(ca);
  auto body = ReadFile(body_file);
  auto sig = ReadFile(sig_file);
  if (!ca_pem.ok() || !body.ok() || !sig.ok()) {
    std::fprintf(stderr, "checkin-parts-bench: cannot read an input file\n");
    return 2;
  }
  auto verifier = gateway::DeviceIdentityVerifier::Create(*ca_pem, {});
  auto store = store::Store::Open("sqlite:" + db);
  auto box = SecretBox::FromKey(Secret<std::string>(std::string(SecretBox::kKeySize, 'k')));
  if (!verifier.ok() || !store.ok() || !box.ok()) {
    std::fprintf(stderr, "checkin-parts-bench: setup failed\n");
    return 2;
  }
  net::Request request;
  request.method = "PUT";
  request.body = *body;
  request.headers.Add("mdm-signature", *sig);
  PlistLimits limits;

  double verify = MicrosPerOp(seconds, [&] { return (*verifier)->Verify(request).ok(); });
  double parse = MicrosPerOp(seconds, [&] { return gateway::ParseCheckIn(*body, limits).ok(); });
  auto m = gateway::ParseCheckIn(*body, limits);
  if (!m.ok()) {
    std::fprintf(stderr, "checkin-parts-bench: %s\n", m.status().ToString().c_str());
    return 2;
  }
  int64_t t = 1700000000;
  double record = MicrosPerOp(seconds, [&] {
    store::EnrollmentRecord r;
    r.id = r.device_id = m->channel.DeviceId();
    r.type = "Device";
    r.topic = m->topic;
    r.push_token_hex = HexEncode(m->token);
    r.push_magic = m->push_magic;
    r.token_updated_at_ms = ++t * 1000;
    if (m->unlock_token) r.sealed_unlock_token = box->Seal(*m->unlock_token, "unlock_token:x");
    r.created_at = r.updated_at = r.last_seen_at = t;
    return (*store)->RecordTokenUpdate(r).ok();
  });
  if (verify < 0 || parse < 0 || record < 0) {
    std::fprintf(stderr, "checkin-parts-bench: an operation failed\n");
    return 1;
  }
  nlohmann::json out = {{"verify_us", verify},
                        {"parse_us", parse},
                        {"record_us", record},
                        {"total_us", verify + parse + record}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

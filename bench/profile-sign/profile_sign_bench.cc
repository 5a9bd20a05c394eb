// profile-sign-bench: the gateway's side of bench/profile-sign. One thread renders the cached
// enrollment profile (fresh PayloadUUIDs) and signs it (CMS SignedData, attached, DER, SHA-256)
// with the production ProfileSigner for --seconds; prints one JSON line. --write-xml writes one
// rendered profile for the openssl peer to sign.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "configurator/mobileconfig.h"
#include "configurator/profile_signer.h"

int main(int argc, char** argv) {
  using namespace mdmgw;
  CLI::App app{"in-process enrollment profile signing throughput"};
  std::string cert, key, write_xml;
  double seconds = 3;
  app.add_option("--cert", cert, "signer certificate PEM")->required();
  app.add_option("--key", key, "signer key PEM")->required();
  app.add_option("--seconds", seconds, "how long to sign");
  app.add_option("--write-xml", write_xml, "write one rendered profile here and exit");
  CLI11_PARSE(app, argc, argv);
  log::SetLevel(log::Level::kWarn);

  configurator::EnrollmentProfile p;
  p.id = "ep_bench";
  p.name = "Bench iPads";
  p.method = configurator::EnrollmentMethod::kDep;
  p.flags = {true, true, false};
  p.organization = "Example Org";
  p.identity.mode = "scep";
  p.identity.url = "https://scep.example.com/scep";
  configurator::MobileconfigContext ctx;
  ctx.topic = "com.apple.mgmt.External.0f5e7a62-8c0b-4b8d-9b0c-2a5e3f1d6c7a";
  ctx.server_url = "https://mdm.example.com/mdm/connect";
  ctx.checkin_url = "https://mdm.example.com/mdm/checkin";
  ctx.scep_challenge = "bench-challenge";
  auto pem = ReadFile(cert);
  if (pem.ok()) {
    // The signer's certificate as the anchor payload, as a self-signed gateway would send it.
    size_t b = pem->find("-----BEGIN CERTIFICATE-----"), e = pem->find("-----END CERTIFICATE-----");
    std::string b64;
    for (char c : pem->substr(b + 27, e - b - 27))
      if (c != '\n' && c != '\r') b64 += c;
    if (auto der = Base64Decode(b64); der.ok()) ctx.anchor_certs_der.push_back(*der);
  }
  auto tmpl = configurator::MobileconfigTemplate::Build(p, ctx);
  auto signer = configurator::ProfileSigner::FromFiles(cert, key);
  if (!tmpl.ok() || !signer.ok()) {
    std::fprintf(stderr, "profile-sign-bench: %s\n",
                 (!tmpl.ok() ? tmpl.status() : signer.status()).ToString().c_str());
    return 2;
  }
  if (!write_xml.empty()) return WriteFileAtomic(write_xml, tmpl->Render(), 0644).ok() ? 0 : 1;

  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  int64_t n = 0;
  size_t bytes = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 50; ++i) {
      auto der = (*signer)->Sign(tmpl->Render());
      if (!der.ok()) return 1;
      bytes = der->size();
      ++n;
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n", nlohmann::json{{"signed", n},
                                     {"seconds", elapsed},
                                     {"per_second", n / elapsed},
                                     {"profile_bytes", bytes}}
                          .dump()
                          .c_str());
  return 0;
}

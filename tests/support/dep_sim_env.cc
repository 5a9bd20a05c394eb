#include "tests/support/dep_sim_env.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "tests/support/dep_token.h"

namespace mdmgw::testing {

DepSimEnv::DepSimEnv(TestCa& ca, const std::vector<std::string>& args) {
  auto tls = ca.IssueServer("dep");
  sim_ = std::make_unique<DepSimProcess>(tls.cert_file, tls.key_file, args);
  base_url_ = "https://localhost:" + std::to_string(sim_->port);
  net::H1ClientOptions options;
  options.ca_file = ca.ca_file();
  http_ = net::H1Client::Create(options).value();
}

nlohmann::json DepSimEnv::Sim(const std::string& method, const std::string& path,
                              const std::string& body) {
  net::ClientRequest r;
  r.method = method;
  r.url = base_url_ + path;
  r.body = body;
  auto resp = http_->SendSync(std::move(r));
  EXPECT_TRUE(resp.ok()) << path << ": " << resp.status().ToString();
  return resp.ok() ? nlohmann::json::parse(resp->body, nullptr, false) : nlohmann::json();
}

std::set<std::string> DepSimEnv::Truth() {
  std::set<std::string> out;
  nlohmann::json truth = Sim("GET", "/sim/truth");  // kept alive: range-for over a member
  for (const auto& s : truth["devices"]) out.insert(s.get<std::string>());
  return out;
}

bool DepSimEnv::OpenGatewaySide(const std::string& db_file, const std::string& consumer_key) {
  auto store = store::Store::Open("sqlite:" + db_file);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return false;
  store_ = std::move(store).value();
  box_ =
      std::make_unique<SecretBox>(SecretBox::FromKey(Secret<std::string>(RandomBytes(32))).value());
  servers_ = std::make_unique<dep::DepServerService>(store_->dep(), *box_, Clock::System(), *http_);
  dep::DepServerSettings settings;
  settings.base_url = base_url_;
  if (!servers_->Upsert("main", settings).ok()) return false;
  auto cert = servers_->Certificate("main");
  if (!cert.ok()) return false;
  auto uploaded =
      servers_->UploadToken("main", MakeDepP7m(*cert, DepTokenPlaintext(consumer_key)), false);
  EXPECT_TRUE(uploaded.ok()) << uploaded.status().ToString();
  return uploaded.ok();
}

std::set<std::string> DepSimEnv::Stored() {
  std::set<std::string> out;
  std::string after;
  while (true) {
    auto page = store_->ListDepDevices("main", after, 1000);
    EXPECT_TRUE(page.ok());
    if (!page.ok() || page->empty()) break;
    for (const auto& d : *page) out.insert(d.serial);
    after = page->back().serial;
  }
  return out;
}

}  // namespace mdmgw::testing

// The admin CLI: where it finds the gateway and key (flags > environment > file), and the real
// `mdm-gateway` binary's commands against a running gateway (with apns-sim for pushes): output,
// --json, and exit codes (0 done, 1 refused, 2 usage, 3 unreachable).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "fixtures/pki/test_pki.h"
#include "gateway/cli/admin_target.h"
#include "gateway/gateway_app.h"
#include "tests/support/child_process.h"
#include "tests/support/dep_sim_env.h"
#include "tests/support/tls_test_client.h"

namespace mdmgw::gateway {
namespace {

using cli::AdminTargetFlags;
using cli::ResolveAdminTarget;

constexpr char kTopic[] = "com.apple.mgmt.External.5e5e5e5e-0000-4000-8000-00000000c11e";

struct Env {
  std::map<std::string, std::string> vars;
  cli::GetEnvFn fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(AdminTargetTest, FlagsThenEnvironmentThenFile) {
  mdmgw::testing::TempDir dir;
  std::string file = dir.File("cli.toml");
  ASSERT_TRUE(WriteFileAtomic(file,
                              "server_url = \"https://file.example:1/\"\napi_key = \"from-file\"\n"
                              "ca_file = \"/file/ca.pem\"\n",
                              0600)
                  .ok());
  Env env;
  env.vars["MDMGW_CLI_CONFIG"] = file;
  auto t = ResolveAdminTarget({}, env.fn());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->server_url, "https://file.example:1") << "trailing slash dropped";
  EXPECT_EQ(t->api_key, "from-file");
  EXPECT_EQ(t->ca_file, "/file/ca.pem");

  env.vars["MDMGW_API_KEY"] = "from-env";
  env.vars["MDMGW_SERVER_URL"] = "https://env.example:2";
  t = ResolveAdminTarget({}, env.fn());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->api_key, "from-env");
  EXPECT_EQ(t->server_url, "https://env.example:2");

  AdminTargetFlags flags;
  flags.api_key = "from-flag";
  flags.ca_file = "/flag/ca.pem";
  t = ResolveAdminTarget(flags, env.fn());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->api_key, "from-flag");
  EXPECT_EQ(t->ca_file, "/flag/ca.pem");
  EXPECT_EQ(t->server_url, "https://env.example:2");
}

TEST(AdminTargetTest, DefaultsAndErrors) {
  mdmgw::testing::TempDir dir;
  Env env;
  env.vars["HOME"] = dir.path();  // no ~/.config/mdm-gateway/cli.toml there
  auto none = ResolveAdminTarget({}, env.fn());
  EXPECT_EQ(none.status().reason(), "no_api_key");
  EXPECT_NE(none.status().message().find("apikey create"), std::string::npos);

  // The local gateway's generated certificate is trusted by default.
  ::mkdir(dir.File("var").c_str(), 0700);
  ::mkdir(dir.File("var/tls").c_str(), 0700);
  ASSERT_TRUE(WriteFileAtomic(dir.File("var/tls/server.crt"), "x", 0644).ok());
  env.vars["MDMGW_DATA_DIR"] = dir.File("var");
  env.vars["MDMGW_API_KEY"] = "k";
  auto t = ResolveAdminTarget({}, env.fn());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->server_url, "https://127.0.0.1:8443");
  EXPECT_EQ(t->ca_file, dir.File("var/tls/server.crt"));

  AdminTargetFlags bad_url;
  bad_url.server_url = "ftp://x";
  EXPECT_EQ(ResolveAdminTarget(bad_url, env.fn()).status().reason(), "bad_cli_config");
  std::string typo = dir.File("typo.toml");
  ASSERT_TRUE(WriteFileAtomic(typo, "server = \"https://x:1\"\n", 0600).ok());
  AdminTargetFlags with_typo;
  with_typo.config_file = typo;
  auto refused = ResolveAdminTarget(with_typo, env.fn());
  EXPECT_EQ(refused.status().reason(), "bad_cli_config");
  EXPECT_NE(refused.status().message().find("unknown setting server"), std::string::npos);
  AdminTargetFlags missing;
  missing.config_file = dir.File("nope.toml");
  EXPECT_EQ(ResolveAdminTarget(missing, env.fn()).status().reason(), "bad_cli_config")
      << "a config file named explicitly must exist";
}

// The line of |text| that starts with |key|, its padding squeezed to one space.
std::string LineOf(const std::string& text, const std::string& key) {
  size_t at = text.find(key);
  if (at == std::string::npos) return "";
  std::string line = text.substr(at, text.find('\n', at) - at);
  std::string out;
  for (char c : line) {
    if (c != ' ' || out.empty() || out.back() != ' ') out.push_back(c);
  }
  return out;
}

class AdminCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ca_.IssueServer("sim");
    sim_ = std::make_unique<mdmgw::testing::ApnsSimProcess>(server.cert_file, server.key_file,
                                                            std::vector<std::string>{});
    ASSERT_NE(sim_->port, 0);
    config_.data_dir = dir_.File("var");
    config_.server.listen = "127.0.0.1:0";
    config_.server.threads = 1;
    config_.apns.base_url = "https://localhost:" + std::to_string(sim_->port);
    config_.apns.ca_file = ca_.ca_file();
    config_.dep.ca_file = ca_.ca_file();  // dep-sim, when a test starts one, has a cert from ca_
    auto app = GatewayApp::Create(config_, [](const char*) -> const char* { return nullptr; });
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_TRUE(app_->Start().ok());
    key_ = app_->api_keys().Create("cli")->key.Expose();
    push_ = ca_.IssuePushCert("push", kTopic);
    other_push_ = ca_.IssuePushCert("other", "com.apple.mgmt.External.another");
    // The connection settings come from the environment, as an admin's shell would have them.
    env_ = "HOME=" + dir_.path() +
           " MDMGW_SERVER_URL=https://127.0.0.1:" + std::to_string(app_->port()) +
           " MDMGW_CA_FILE=" + config_.data_dir + "/tls/server.crt ";
  }

  struct Run {
    int exit = -1;
    std::string out, err;
  };
  // Runs `mdm-gateway <args>` with the API key (unless |with_key| is false).
  Run Cli(const std::string& args, bool with_key = true) {
    std::string err_file = dir_.File("stderr.txt");
    std::string cmd = env_ + (with_key ? "MDMGW_API_KEY=" + key_ + " " : "") + MDMGW_GATEWAY_PATH +
                      " " + args + " 2>" + err_file;
    auto r = mdmgw::testing::RunCommand(cmd);
    Run run{r.exit_status, r.out, ReadFile(err_file).value_or("")};
    EXPECT_EQ(run.out.find(key_), std::string::npos) << "the API key is never printed";
    EXPECT_EQ(run.err.find(key_), std::string::npos) << "the API key is never printed";
    return run;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.File(name);
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return path;
  }
  void ImportDevice(const std::string& id, int token) {
    char hex[65];
    std::snprintf(hex, sizeof hex, "%064x", 0xc11000 + token);
    nlohmann::json d = {{"topic", kTopic}, {"push_token_hex", hex}, {"push_magic", "magic-" + id}};
    auto r = mdmgw::testing::H2Request(
        app_->port(), "PUT", "/api/v1/devices/" + id,
        {{"authorization", "Bearer " + key_}, {"content-type", "application/json"}}, d.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }

  mdmgw::testing::TempDir dir_;
  mdmgw::testing::TestCa ca_{dir_.path()};
  std::unique_ptr<mdmgw::testing::ApnsSimProcess> sim_;
  GatewayConfig config_;
  std::unique_ptr<GatewayApp> app_;
  std::string key_, env_;
  mdmgw::testing::IssuedFiles push_, other_push_;
};

TEST_F(AdminCliTest, ApnsUploadShowAndTheTopicChangeRefusal) {
  auto none = Cli("apns show");
  EXPECT_EQ(none.exit, 1) << none.err;
  EXPECT_NE(none.err.find("404"), std::string::npos) << none.err;

  auto up = Cli("apns upload --cert " + push_.cert_file + " --key " + push_.key_file +
                " --apple-id admin@example.com");
  ASSERT_EQ(up.exit, 0) << up.err;
  EXPECT_NE(up.out.find(kTopic), std::string::npos) << up.out;
  EXPECT_EQ(up.out.find("PRIVATE KEY"), std::string::npos) << "the key is never echoed";

  auto show = Cli("apns show");
  ASSERT_EQ(show.exit, 0) << show.err;
  EXPECT_NE(show.out.find("topic:"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("admin@example.com"), std::string::npos) << show.out;
  auto json = Cli("apns show --json");
  ASSERT_EQ(json.exit, 0) << json.err;
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json.out;
  EXPECT_EQ(parsed["topic"], kTopic);
  EXPECT_GT(parsed["days_left"].get<int>(), 300);

  // Another topic is refused (exit 1, the gateway's code on stderr) and changes nothing.
  auto other =
      Cli("apns upload --cert " + other_push_.cert_file + " --key " + other_push_.key_file);
  EXPECT_EQ(other.exit, 1);
  EXPECT_NE(other.err.find("topic_changed"), std::string::npos) << other.err;
  EXPECT_NE(Cli("apns show").out.find(kTopic), std::string::npos);

  auto missing = Cli("apns upload --cert " + dir_.File("nope.pem"));
  EXPECT_EQ(missing.exit, 2);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
  auto csr = Cli("apns csr --common-name 'Example MDM' --email mdm@example.com --out " +
                 dir_.File("push.csr"));
  ASSERT_EQ(csr.exit, 0) << csr.err;
  EXPECT_NE(ReadFile(dir_.File("push.csr")).value_or("").find("BEGIN CERTIFICATE REQUEST"),
            std::string::npos);
}

TEST_F(AdminCliTest, DevicesListShowAndPush) {
  auto empty = Cli("devices list");
  ASSERT_EQ(empty.exit, 0) << empty.err;
  EXPECT_NE(empty.out.find("(none)"), std::string::npos) << empty.out;

  ASSERT_EQ(Cli("apns upload --cert " + push_.cert_file + " --key " + push_.key_file).exit, 0);
  ImportDevice("UDID-CLI-1", 1);
  ImportDevice("UDID-CLI-2", 2);
  auto list = Cli("devices list");
  ASSERT_EQ(list.exit, 0) << list.err;
  EXPECT_NE(list.out.find("UDID-CLI-1"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("UDID-CLI-2"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("magic-"), std::string::npos) << "PushMagic is never shown";
  auto page = Cli("devices list --limit 1");
  ASSERT_EQ(page.exit, 0);
  EXPECT_NE(page.out.find("more: --after UDID-CLI-1"), std::string::npos) << page.out;

  auto show = Cli("devices show UDID-CLI-2");
  ASSERT_EQ(show.exit, 0) << show.err;
  EXPECT_EQ(LineOf(show.out, "push.token_present:"), "push.token_present: yes") << show.out;
  EXPECT_EQ(Cli("devices show nobody").exit, 1);

  auto pushed = Cli("devices push UDID-CLI-1 UDID-CLI-2");
  ASSERT_EQ(pushed.exit, 0) << pushed.err << pushed.out;
  EXPECT_NE(pushed.out.find("UDID-CLI-1"), std::string::npos) << pushed.out;
  auto partly = Cli("devices push UDID-CLI-1 ghost --json");
  EXPECT_EQ(partly.exit, 1) << "one id was not delivered";
  auto results = nlohmann::json::parse(partly.out, nullptr, false);
  ASSERT_TRUE(results.is_object()) << partly.out;
  EXPECT_EQ(results["delivered"], 1);
}

TEST_F(AdminCliTest, RoutingProfilesDepAndExitCodes) {
  auto routing = Cli("routing show");
  ASSERT_EQ(routing.exit, 0) << routing.err;
  ASSERT_TRUE(nlohmann::json::parse(routing.out, nullptr, false).is_object()) << routing.out;
  auto bad = Cli("routing set " + Write("bad.json", R"({"default":"nowhere"})"));
  EXPECT_EQ(bad.exit, 1);
  EXPECT_NE(bad.err.find("bad_routing"), std::string::npos) << bad.err;
  auto good = Cli(
      "routing set " +
      Write("good.json", R"({"default":"a","upstreams":{"a":{"url":"http://127.0.0.1:9/mdm"}}})"));
  EXPECT_EQ(good.exit, 0) << good.err;

  auto created = Cli("profiles create --name 'Lab Macs' --method usb-direct");
  ASSERT_EQ(created.exit, 0) << created.err;
  auto profiles = Cli("profiles list");
  ASSERT_EQ(profiles.exit, 0);
  EXPECT_NE(profiles.out.find("Lab Macs"), std::string::npos) << profiles.out;
  EXPECT_NE(profiles.out.find("usb-direct"), std::string::npos) << profiles.out;
  std::string id = nlohmann::json::parse(Cli("profiles list --json").out)["profiles"][0]["id"];
  auto early = Cli("profiles export " + id);
  EXPECT_EQ(early.exit, 1) << "no push certificate yet";
  EXPECT_NE(early.err.find("no_push_certificate"), std::string::npos) << early.err;
  ASSERT_EQ(Cli("apns upload --cert " + push_.cert_file + " --key " + push_.key_file).exit, 0);
  auto exported = Cli("profiles export " + id + " --out " + dir_.File("lab.mobileconfig"));
  ASSERT_EQ(exported.exit, 0) << exported.err;
  EXPECT_GT(ReadFile(dir_.File("lab.mobileconfig")).value_or("").size(), 100u)
      << "the usb-direct profile, format taken from the profile's method";
  EXPECT_EQ(Cli("profiles export nosuchprofile").exit, 1);
  auto wrong = Cli("profiles create --name 'Odd' --method teleport");
  EXPECT_EQ(wrong.exit, 1) << wrong.out;

  auto added = Cli("dep add campus --base-url https://127.0.0.1:9");
  ASSERT_EQ(added.exit, 0) << added.err;
  auto servers = Cli("dep servers");
  ASSERT_EQ(servers.exit, 0);
  EXPECT_NE(servers.out.find("campus"), std::string::npos) << servers.out;
  auto cert = Cli("dep cert campus --out " + dir_.File("campus.pem"));
  ASSERT_EQ(cert.exit, 0) << cert.err;
  EXPECT_NE(ReadFile(dir_.File("campus.pem")).value_or("").find("BEGIN CERTIFICATE"),
            std::string::npos);

  // Exit codes: no key → 2; a wrong key → 1 (401); a bad flag → 2; nobody listening → 3.
  auto no_key = Cli("devices list", /*with_key=*/false);
  EXPECT_EQ(no_key.exit, 2);
  EXPECT_NE(no_key.err.find("no API key"), std::string::npos) << no_key.err;
  EXPECT_EQ(Cli("devices list --api-key mdmgw_wrong", false).exit, 1);
  EXPECT_EQ(Cli("devices list --no-such-flag").exit, 2);
  auto down = Cli("devices list --server https://127.0.0.1:" +
                  std::to_string(mdmgw::testing::FreeTcpPort()));
  EXPECT_EQ(down.exit, 3);
  EXPECT_NE(down.err.find("cannot reach"), std::string::npos) << down.err;
}

// The DEP commands against dep-sim, the way an admin runs the token exchange and the first sync:
// cert → (Apple Business Manager: here dep-sim issues the .p7m) → token → sync → devices →
// profile → assign, with the refusals' exit codes.
TEST_F(AdminCliTest, DepTokenSyncDevicesProfileAndAssignAgainstDepSim) {
  mdmgw::testing::DepSimEnv dep(ca_, {"--devices", "250"});
  ASSERT_NE(dep.port(), 0);
  ASSERT_EQ(Cli("dep add abm --base-url " + dep.base_url()).exit, 0);
  auto cert = Cli("dep cert abm --out " + dir_.File("abm.pem"));
  ASSERT_EQ(cert.exit, 0) << cert.err;
  net::ClientRequest issue;
  issue.method = "POST";
  issue.url = dep.base_url() + "/sim/token";
  issue.body = ReadFile(dir_.File("abm.pem")).value_or("");
  issue.headers.Add("content-type", "application/x-pem-file");
  auto p7m = dep.http().SendSync(std::move(issue));
  ASSERT_TRUE(p7m.ok() && p7m->status == 200) << (p7m.ok() ? p7m->body : "no answer");
  std::string token_file = Write("abm_Token.p7m", p7m->body);

  auto junk = Cli("dep token abm " + Write("junk.p7m", "not a token at all"));
  EXPECT_EQ(junk.exit, 1) << "a refused upload";
  EXPECT_NE(junk.err.find("not_smime"), std::string::npos) << junk.err;
  EXPECT_EQ(Cli("dep token nosuchserver " + token_file).exit, 1);
  EXPECT_EQ(Cli("dep token abm " + dir_.File("missing.p7m")).exit, 2) << "an unreadable file";
  auto token = Cli("dep token abm " + token_file);
  ASSERT_EQ(token.exit, 0) << token.err;
  EXPECT_NE(token.out.find("dep-sim"), std::string::npos) << "the organisation Apple names\n"
                                                          << token.out;

  auto sync = Cli("dep sync abm --wait");
  ASSERT_EQ(sync.exit, 0) << sync.err;
  EXPECT_NE(sync.out.find("syncing abm ..."), std::string::npos) << sync.out;
  auto servers = nlohmann::json::parse(Cli("dep servers --json").out, nullptr, false);
  ASSERT_TRUE(servers.is_object());
  EXPECT_EQ(servers["servers"][0]["devices"], 250);
  EXPECT_EQ(servers["servers"][0]["terms"], "accepted");

  // Pages: a table with a continuation hint, and JSON that adds up to dep-sim's ground truth.
  auto page = Cli("dep devices --server abm --limit 5");
  ASSERT_EQ(page.exit, 0) << page.err;
  EXPECT_NE(page.out.find("SERIAL"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find("more: --cursor "), std::string::npos) << page.out;
  auto all = nlohmann::json::parse(Cli("dep devices --server abm --limit 1000 --json").out);
  std::set<std::string> serials;
  for (const auto& d : all["devices"]) serials.insert(d["serial_number"].get<std::string>());
  EXPECT_EQ(serials, dep.Truth());
  ASSERT_GE(serials.size(), 2u);
  std::string s1 = *serials.begin(), s2 = *std::next(serials.begin());

  ASSERT_EQ(Cli("profiles create --name 'Campus DEP' --method dep").exit, 0);
  std::string id = nlohmann::json::parse(Cli("profiles list --json").out)["profiles"][0]["id"];
  auto defined = Cli("dep profile abm campus --enrollment-profile " + id + " --json");
  ASSERT_EQ(defined.exit, 0) << defined.err;
  std::string uuid = nlohmann::json::parse(defined.out).value("profile_uuid", "");
  ASSERT_FALSE(uuid.empty()) << defined.out;
  EXPECT_EQ(Cli("dep profile abm other --enrollment-profile nosuchprofile").exit, 1);

  auto assigned = Cli("dep assign abm campus " + s1 + " " + s2);
  EXPECT_EQ(assigned.exit, 0) << assigned.out << assigned.err;
  auto mixed = Cli("dep assign abm campus " + s1 + " NOSUCHSERIAL1");
  EXPECT_EQ(mixed.exit, 1) << "a serial Apple does not know is a partial failure";
  EXPECT_NE(mixed.out.find("NOT_ACCESSIBLE"), std::string::npos) << mixed.out;
  auto after = nlohmann::json::parse(Cli("dep devices --server abm --limit 1000 --json").out);
  int with_profile = 0;
  for (const auto& d : after["devices"]) {
    std::string serial = d["serial_number"];
    if (serial != s1 && serial != s2) continue;
    EXPECT_EQ(d["assignment"]["profile_uuid"], uuid) << d.dump();
    ++with_profile;
  }
  EXPECT_EQ(with_profile, 2);
}

TEST_F(AdminCliTest, ApiKeysOverTheAdminApi) {
  // MDMGW_SERVER_URL is set (env_), so apikey goes to the running gateway, not a local store.
  auto created = Cli("apikey create --name deploy-bot");
  ASSERT_EQ(created.exit, 0) << created.err;
  std::string out = created.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::string new_key = out.substr(out.rfind('\n') + 1);
  EXPECT_EQ(new_key.rfind("mdmgw_", 0), 0u) << created.out;
  EXPECT_TRUE(app_->api_keys().Authenticate("Bearer " + new_key).ok()) << "the new key works";
  EXPECT_EQ(Cli("apikey create --name deploy-bot").exit, 1) << "names are unique";

  auto list = Cli("apikey list");
  ASSERT_EQ(list.exit, 0) << list.err;
  EXPECT_NE(list.out.find("deploy-bot"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(new_key), std::string::npos) << "a listed key is never shown";

  auto revoked = Cli("apikey revoke deploy-bot");
  ASSERT_EQ(revoked.exit, 0) << revoked.err;
  EXPECT_FALSE(app_->api_keys().Authenticate("Bearer " + new_key).ok()) << "revoked at once";
  EXPECT_EQ(Cli("apikey revoke nobody").exit, 1);
  // The key in use is the last active one: the API keeps it.
  auto last = Cli("apikey revoke cli");
  EXPECT_EQ(last.exit, 1);
  EXPECT_NE(last.err.find("last_active_key"), std::string::npos) << last.err;
  EXPECT_TRUE(app_->api_keys().Authenticate("Bearer " + key_).ok());

  auto reader = Cli("apikey create --name grafana --scope read");
  ASSERT_EQ(reader.exit, 0) << reader.err;
  EXPECT_NE(reader.out.find("created read API key 'grafana'"), std::string::npos) << reader.out;
  auto scoped = app_->store().ListApiKeys();
  ASSERT_TRUE(scoped.ok());
  EXPECT_EQ(scoped->back().name, "grafana");
  EXPECT_EQ(scoped->back().scope, "read");
  EXPECT_EQ(Cli("apikey create --name x --scope root").exit, 2)
      << "an unknown scope is a usage error";

  // Every change above is in the audit log, newest first, by the CLI's key.
  auto audit = Cli("audit list --limit 3");
  ASSERT_EQ(audit.exit, 0) << audit.err;
  EXPECT_NE(audit.out.find("POST"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("/api/v1/apikeys"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("more: --before "), std::string::npos) << "there are more than 3";
  auto records = app_->store().ListAudit(0, 100);
  ASSERT_TRUE(records.ok());
  // create, duplicate create, revoke, revoke nobody, revoke the last key, create grafana
  ASSERT_EQ(records->size(), 6u);
  EXPECT_EQ(records->front().actor, "cli");
  EXPECT_EQ(records->front().status, 201);
  EXPECT_EQ((*records)[1].error, "last_active_key");
}

}  // namespace
}  // namespace mdmgw::gateway
